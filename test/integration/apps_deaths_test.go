package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An app's deaths as its user sees them: kill -9 and a crash each bring it
// back, a request sent right after a crash waits for it, a crash loop
// backs off, and a broken app file fails only that app.
func TestAppsDeaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appsDir(t, dir, map[string]string{
		"killed":  appCmd(t) + "health = /healthz\n",
		"crashes": appCmd(t) + "health = /healthz\n",
		"good":    appCmd(t),
	})
	p := start(t, opts{dir: dir})
	owner := ownerClient(40 * time.Second)

	t.Run("kill -9", func(t *testing.T) {
		t.Parallel()
		st := waitApp(t, p.addr, "killed", 15*time.Second, appRunning)
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// A request made at once waits for the app's return: the dial is
		// refused, or the dying app's backlog resets it unread.
		if code, body := getBody(t, owner, p.url("/killed/")); code != 200 || !strings.Contains(body, "testapp port=") {
			t.Errorf("GET /killed/ right after kill -9: %d %q", code, body)
		}
		back := waitApp(t, p.addr, "killed", 15*time.Second, func(s appStatus) bool { return appRunning(s) && s.PID != st.PID })
		if back.Restarts < 1 || back.LastVerdict != "killed" {
			t.Errorf("after kill -9: %+v", back)
		}
		_, hist := appInfo(t, p.addr, "killed")
		var lt *appLifetime
		for i := range hist {
			if hist[i].PID == st.PID && hist[i].EndedAt != nil {
				lt = &hist[i]
				break
			}
		}
		if lt == nil {
			t.Fatalf("no ended lifetime of pid %d in %+v", st.PID, hist)
		}
		if lt.Signal != "SIGKILL" || lt.Verdict != "killed" || !strings.Contains(lt.Summary, "SIGKILL") ||
			!strings.Contains(lt.Hint, "settings_enable_monitor_phantom_procs") || !strings.Contains(lt.Hint, "OOM") {
			t.Errorf("the killed lifetime: %+v", *lt)
		}
	})

	t.Run("crash, and a request right after it", func(t *testing.T) {
		t.Parallel()
		st := waitApp(t, p.addr, "crashes", 15*time.Second, appRunning)
		// The crashing request itself gets no answer from the app.
		resp, err := owner.Get(p.url("/crashes/crash?code=3"))
		if err == nil {
			resp.Body.Close()
		}
		if code, body := getBody(t, owner, p.url("/crashes/headers")); code != 200 || !strings.Contains(body, `"path":"/headers"`) {
			t.Errorf("the request right after the crash: %d %.200q", code, body)
		}
		back := waitApp(t, p.addr, "crashes", 5*time.Second, appRunning)
		_, hist := appInfo(t, p.addr, "crashes")
		if back.PID == st.PID || len(hist) == 0 {
			t.Fatalf("after the crash: %+v, history %+v", back, hist)
		}
		var lt *appLifetime
		for i := range hist {
			if hist[i].PID == st.PID && hist[i].EndedAt != nil {
				lt = &hist[i]
			}
		}
		if lt == nil || lt.Verdict != "crash" || lt.Code == nil || *lt.Code != 3 {
			t.Errorf("the crash's lifetime: %+v", lt)
		}
	})

	t.Run("crash loop backs off", func(t *testing.T) {
		t.Parallel()
		// The backoff (1 s, doubling) is not a setting: two rounds of it,
		// from when this subtest adds the app.
		writeApp(t, dir, "loop", "command = sh -c 'exit 1'\n")
		if code, body := updPost(t, p.addr, "/api/apps/reload", ""); code != 200 {
			t.Fatalf("reload: %d %s", code, body)
		}
		first := waitApp(t, p.addr, "loop", 10*time.Second, func(s appStatus) bool { return s.State == "backoff" })
		if first.NextTry == nil || first.LastVerdict != "crash" {
			t.Fatalf("first backoff: %+v", first)
		}
		second := waitApp(t, p.addr, "loop", 10*time.Second, func(s appStatus) bool {
			return s.State == "backoff" && s.Restarts > first.Restarts
		})
		if second.NextTry == nil || !second.NextTry.After(*first.NextTry) {
			t.Fatalf("second backoff: %+v after %+v", second, first)
		}
		// The waits grow: the second round's wait is longer than the first's.
		_, hist := appInfo(t, p.addr, "loop")
		if len(hist) < 2 || hist[0].EndedAt == nil || hist[1].EndedAt == nil {
			t.Fatalf("history %+v", hist)
		}
		wait2 := second.NextTry.Sub(*hist[0].EndedAt)
		wait1 := hist[0].StartedAt.Sub(*hist[1].EndedAt)
		if wait2 <= wait1 {
			t.Errorf("backoff waits %s then %s: not growing", wait1, wait2)
		}
		t.Logf("crash loop: waits %s, %s; restarts %d → %d", wait1.Round(time.Millisecond), wait2.Round(time.Millisecond), first.Restarts, second.Restarts)
	})

	t.Run("a broken app file", func(t *testing.T) {
		t.Parallel()
		waitApp(t, p.addr, "good", 15*time.Second, appRunning)
		writeApp(t, dir, "broken", appCmd(t)+"stop_signal = USR9\n")
		code, body := updPost(t, p.addr, "/api/apps/reload", "")
		if code != 200 || !strings.Contains(body, "broken.conf:3:") {
			t.Fatalf("reload with a broken file: %d %s", code, body)
		}
		st := waitApp(t, p.addr, "broken", 5*time.Second, func(s appStatus) bool { return s.State == "failed" })
		if !strings.Contains(st.Error, "broken.conf:3:") {
			t.Errorf("the broken app's error %q names no file:line", st.Error)
		}
		if code, body := getBody(t, owner, p.url("/good/")); code != 200 || !strings.Contains(body, "testapp") {
			t.Errorf("the other app after the broken reload: %d %q", code, body)
		}
		p.mustHealthy()
		if code, _ := getBody(t, owner, p.url("/")); code != 200 {
			t.Errorf("the console: %d", code)
		}
		writeApp(t, dir, "broken", appCmd(t))
		if code, body := updPost(t, p.addr, "/api/apps/reload", ""); code != 200 || !strings.Contains(body, `"errors": []`) {
			t.Fatalf("reload after the fix: %d %s", code, body)
		}
		waitApp(t, p.addr, "broken", 15*time.Second, appRunning)
		if code, _ := getBody(t, owner, p.url("/broken/")); code != 200 {
			t.Errorf("the fixed app: %d", code)
		}
	})
}

// gone reports whether pid has exited: no such process, or a zombie (its
// sockets are closed already).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// The app spawning path under Android 11's seccomp filter: webui started
// by the launcher starts the app, and restarts it after kill -9; nothing
// hits the filter (no pidfd, no clone3).
func TestAppsSeccomp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appsDir(t, dir, map[string]string{
		"notes": appCmd(t) + "health = /healthz\n",
		"shell": "command = sh -c 'exec " + testapp(t) + "'\n",
	})
	p := start(t, opts{dir: dir, seccomp: true})
	filtered(t, p.pid())
	for _, name := range []string{"notes", "shell"} {
		st := waitApp(t, p.addr, name, 15*time.Second, appRunning)
		filtered(t, st.PID)
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		back := waitApp(t, p.addr, name, 15*time.Second, func(s appStatus) bool { return appRunning(s) && s.PID != st.PID })
		filtered(t, back.PID)
		if code, body := getBody(t, ownerClient(10*time.Second), p.url("/"+name+"/")); code != 200 || !strings.Contains(body, fmt.Sprintf("pid=%d", back.PID)) {
			t.Errorf("%s after kill -9: %d %q", name, code, body)
		}
	}
	p.mustHealthy()
	noTrap(t, dir, p.stderr.String())
}
