package apps

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/proc"
)

func TestStartRunning(t *testing.T) {
	d := newDirs(t)
	t.Setenv("WEBUI_TOKEN", "secret-owner-token")
	t.Setenv("LISTEN_FDS", "1")
	sp := appSpec("web", "env.GREETING = hi there")
	s := start(t, d.config(), []Spec{sp}, nil)
	st := waitRunning(t, s, "web")
	if st.PID <= 0 || st.Port <= 0 || st.Kind != Process || st.Route != "/web/" {
		t.Fatalf("status %+v", st)
	}
	addr := s.Addr("web")
	if addr != "127.0.0.1:"+strconv.Itoa(st.Port) {
		t.Fatalf("Addr %q, status port %d", addr, st.Port)
	}
	if body := get(t, addr, "/"); !strings.Contains(body, "pid="+strconv.Itoa(st.PID)) || !strings.Contains(body, "port="+strconv.Itoa(st.Port)) {
		t.Fatalf("page %q", body)
	}
	// Its own session, in its dir, its env without webui's own.
	if sid, _ := syscall.Getpgid(st.PID); sid != st.PID {
		t.Errorf("pgid %d, want its own %d", sid, st.PID)
	}
	if cwd, _ := os.Readlink("/proc/" + strconv.Itoa(st.PID) + "/cwd"); cwd != d.home {
		t.Errorf("cwd %q, want %q", cwd, d.home)
	}
	env, _ := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/environ")
	if !strings.Contains(string(env), "\x00GREETING=hi there\x00") || !strings.Contains(string(env), "PORT="+strconv.Itoa(st.Port)+"\x00") {
		t.Errorf("env lacks GREETING or PORT: %q", env)
	}
	if strings.Contains(string(env), "secret-owner-token") || strings.Contains(string(env), "LISTEN_FDS") {
		t.Errorf("webui's own env reached the app: %q", env)
	}
	// Output goes to its log file, stdout and stderr both; no pipe to us.
	for _, fd := range []string{"1", "2"} {
		if target, _ := os.Readlink("/proc/" + strconv.Itoa(st.PID) + "/fd/" + fd); target != s.LogFile("web") {
			t.Errorf("fd %s is %q, want the log file", fd, target)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		var lines []string
		_ = s.Logs(context.Background(), "web", 10, false, func(l string) { lines = append(lines, l) })
		all := strings.Join(lines, "\n")
		if strings.Contains(all, "listening on 127.0.0.1:") && strings.Contains(all, "testapp: GET /") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks the start and request lines: %q", all)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := json.Marshal(st)
	if !strings.HasPrefix(string(b), `{"name":"web","kind":"process","state":"running","pid":`) {
		t.Errorf("JSON %s", b)
	}
}

func TestKill9(t *testing.T) {
	d := newDirs(t)
	s := start(t, d.config(), []Spec{appSpec("web")}, nil)
	old := waitRunning(t, s, "web")
	killed := time.Now()
	kill(t, old.PID, syscall.SIGKILL)
	st := waitFor(t, s, "web", 2*time.Second, "told of the death", func(st Status) bool { return st.LastVerdict != "" })
	noticed := time.Since(killed)
	if st.LastVerdict != VerdictKilled {
		t.Fatalf("verdict %q", st.LastVerdict)
	}
	// Told by the kernel (the lock), not found by a poll: at once.
	if noticed > 500*time.Millisecond {
		t.Errorf("the death was noticed after %s", noticed)
	}
	st = waitRunning(t, s, "web")
	if st.PID == old.PID || st.Restarts != 1 {
		t.Fatalf("after the kill: %+v", st)
	}
	h := s.History("web")
	if len(h) != 2 || h[0].Verdict != VerdictRunning || h[1].PID != old.PID || h[1].Signal != "SIGKILL" || h[1].Code != nil {
		t.Fatalf("history %+v", h)
	}
	if !strings.Contains(h[1].Hint, "settings_enable_monitor_phantom_procs") || !strings.Contains(h[1].Summary, "OOM") {
		t.Errorf("no phantom/OOM hint: %+v", h[1])
	}
	if !strings.Contains(strings.Join(h[1].Tail, "\n"), "listening on") {
		t.Errorf("lifetime tail %q lacks its stderr", h[1].Tail)
	}
	b, _ := json.Marshal(h[1])
	if !strings.Contains(string(b), `"pid":`+strconv.Itoa(old.PID)+`,"verdict":"killed","signal":"SIGKILL"`) {
		t.Errorf("lifetime JSON %s", b)
	}
}

func TestCrashRestarts(t *testing.T) {
	d := newDirs(t)
	s := start(t, d.config(), []Spec{appSpec("web"), appSpec("once", "restart = never")}, nil)
	old := waitRunning(t, s, "web")
	_, _ = httpGet(s.Addr("web"), "/crash?code=3")
	st := waitFor(t, s, "web", 5*time.Second, "restarted", func(st Status) bool {
		return st.State == StateRunning && st.PID != old.PID && st.PID != 0
	})
	h := s.History("web")
	if len(h) < 2 || h[1].Verdict != VerdictCrash || h[1].Code == nil || *h[1].Code != 3 {
		t.Fatalf("history %+v", h)
	}
	if st.LastVerdict != VerdictCrash || st.Restarts != 1 {
		t.Errorf("status %+v", st)
	}
	// restart = never: a crash leaves it failed, with the reason.
	waitRunning(t, s, "once")
	_, _ = httpGet(s.Addr("once"), "/crash?code=3")
	st = waitFor(t, s, "once", 5*time.Second, "failed", func(st Status) bool { return st.State == StateFailed })
	if !strings.Contains(st.Error, "exited with code 3") || st.PID != 0 {
		t.Errorf("status %+v", st)
	}
	if err := s.Start("once"); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, s, "once")
}

func httpGet(addr, path string) (string, error) {
	resp, err := probeClient.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return resp.Status, nil
}

func TestCrashLoopBacksOffThenFails(t *testing.T) {
	d := newDirs(t)
	cfg := d.config()
	cfg.BackoffBase, cfg.MaxFailures = 40*time.Millisecond, 4
	s := start(t, cfg, []Spec{shSpec("loop", "echo dying >&2; exit 1")}, nil)
	var tries []time.Duration
	st := waitFor(t, s, "loop", 10*time.Second, "failed", func(st Status) bool {
		if st.State == StateBackoff && st.NextTry != nil && (len(tries) == 0 || tries[len(tries)-1] != time.Until(*st.NextTry).Round(10*time.Millisecond)) {
			tries = append(tries, time.Until(*st.NextTry).Round(10*time.Millisecond))
		}
		return st.State == StateFailed
	})
	if !strings.Contains(st.Error, "gave up after 4 failures in a row") || !strings.Contains(st.Error, "exited with code 1") {
		t.Fatalf("status %+v", st)
	}
	h := s.History("loop")
	if len(h) != 5 {
		t.Fatalf("%d lifetimes, want 5: %+v", len(h), h)
	}
	// Each wait is at least the backoff: 40, 80, 160, 320 ms (a timer
	// never fires early, so this lower bound cannot flake).
	for i, want := range []time.Duration{40, 80, 160, 320} {
		lt, next := h[len(h)-1-i], h[len(h)-2-i]
		if gap := next.StartedAt.Sub(*lt.EndedAt); gap < want*time.Millisecond {
			t.Errorf("restart %d came %s after the exit, want ≥ %dms", i+1, gap, want)
		}
	}
	if len(h[0].Tail) == 0 || h[0].Tail[len(h[0].Tail)-1] != "dying" {
		t.Errorf("tail %q", h[0].Tail)
	}
}

func TestBrokenFileFailsAlone(t *testing.T) {
	d := newDirs(t)
	dir := t.TempDir()
	write(t, dir, "good.conf", "command = "+testApp+"\nport = auto\n")
	write(t, dir, "bad.conf", "command = "+testApp+"\nport = lots\n")
	specs, errs := LoadDir(dir)
	s := start(t, d.config(), specs, errs)
	waitRunning(t, s, "good")
	st, ok := s.Status("bad")
	if !ok || st.State != StateFailed || st.Error != filepath.Join(dir, "bad.conf")+`:2: port: "lots" (allowed: auto, or 1-65535)` {
		t.Fatalf("bad app: %+v", st)
	}
	if _, err := s.Wait(context.Background(), "bad"); err == nil {
		t.Fatal("Wait on a failed app did not say so")
	}
	// Fixed and reloaded, it runs; the good one is untouched.
	good, _ := s.Status("good")
	write(t, dir, "bad.conf", "command = "+testApp+"\nport = auto\n")
	s.Reload(LoadDir(dir))
	waitRunning(t, s, "bad")
	if st, _ := s.Status("good"); st.PID != good.PID {
		t.Fatalf("reload restarted the unchanged app: %d → %d", good.PID, st.PID)
	}
	// A running app whose file breaks keeps running on its old spec, and
	// says what is wrong.
	write(t, dir, "good.conf", "command = "+testApp+"\nport = auto\nrestart = sometimes\n")
	s.Reload(LoadDir(dir))
	st, _ = s.Status("good")
	if st.State != StateRunning || st.PID != good.PID || !strings.Contains(st.Error, "good.conf:3: restart:") {
		t.Fatalf("after its file broke: %+v", st)
	}
}

func TestReload(t *testing.T) {
	d := newDirs(t)
	a, b := appSpec("a"), appSpec("b")
	s := start(t, d.config(), []Spec{a, b}, nil)
	sa, sb := waitRunning(t, s, "a"), waitRunning(t, s, "b")
	a.Env = []string{"NEW=1"}
	c := appSpec("c")
	s.Reload([]Spec{a, c}, nil)
	if _, ok := s.Status("b"); ok {
		t.Fatal("removed app still listed")
	}
	waitFor(t, s, "a", 5*time.Second, "restarted", func(st Status) bool { return st.State == StateRunning && st.PID != sa.PID && st.PID != 0 })
	waitRunning(t, s, "c")
	deadline := time.Now().Add(5 * time.Second)
	for proc.Alive(sb.PID) {
		if time.Now().After(deadline) {
			t.Fatal("the removed app's process still runs")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h := s.History("a"); len(h) < 2 || h[1].Verdict != VerdictStopped || h[1].Reason != "reload" {
		t.Fatalf("history %+v", h)
	}
}

func TestStopTermThenKill(t *testing.T) {
	d := newDirs(t)
	polite := appSpec("polite")
	stubborn := appSpec("stubborn", "env.TESTAPP_IGNORE_TERM = 1", "stop_timeout = 300ms")
	s := start(t, d.config(), []Spec{polite, stubborn}, nil)
	p, st := waitRunning(t, s, "polite"), waitRunning(t, s, "stubborn")
	t0 := time.Now()
	if err := s.Stop("polite"); err != nil {
		t.Fatal(err)
	}
	if h := s.History("polite"); h[0].Signal != "SIGTERM" || h[0].Verdict != VerdictStopped || proc.Alive(p.PID) {
		t.Fatalf("polite: %+v", h[0])
	}
	// Not held to the stop timeout (10 s): the bound only needs to tell
	// the two apart, and a loaded 2-core machine took 324 ms.
	if took := time.Since(t0); took > DefaultStopTimeout/2 {
		t.Errorf("a TERM-abiding app took %s to stop", took)
	}
	t0 = time.Now()
	if err := s.Stop("stubborn"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	h := s.History("stubborn")
	if h[0].Signal != "SIGKILL" || h[0].Reason != "stop" || took < 300*time.Millisecond || proc.Alive(st.PID) {
		t.Fatalf("stubborn: took %s, %+v", took, h[0])
	}
	if st, _ := s.Status("stubborn"); st.State != StateStopped {
		t.Fatalf("state %q", st.State)
	}
	// Stopped stays stopped across a new webui.
	s.Close()
	s2 := start(t, d.config(), []Spec{polite, stubborn}, nil)
	if st, _ := s2.Status("polite"); st.State != StateStopped {
		t.Fatalf("a stopped app came back: %+v", st)
	}
	if err := s2.Start("polite"); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, s2, "polite")
}

func TestLivenessRestartsUnhealthy(t *testing.T) {
	d := newDirs(t)
	s := start(t, d.config(), []Spec{appSpec("web")}, nil)
	old := waitRunning(t, s, "web")
	_, _ = httpGet(s.Addr("web"), "/healthz?fail")
	waitFor(t, s, "web", 5*time.Second, "restarted", func(st Status) bool { return st.State == StateRunning && st.PID != old.PID && st.PID != 0 })
	if h := s.History("web"); h[1].Verdict != VerdictUnhealthy || h[1].Signal != "SIGTERM" {
		t.Fatalf("history %+v", h[1])
	}
}

// A new webui in the same process (an exec restart keeps the pid, so it is
// still the parent) adopts the app, and is told of its death.
func TestAdoptAfterExecRestart(t *testing.T) {
	d := newDirs(t)
	s1 := New(d.config(), []Spec{appSpec("web")}, nil)
	old := waitRunning(t, s1, "web")
	s1.Close()
	sp := appSpec("web", "env.CHANGED = 1")
	s2 := start(t, d.config(), []Spec{sp}, nil)
	st := waitRunning(t, s2, "web")
	if st.PID != old.PID || st.Restarts != 0 || !st.SpecChanged {
		t.Fatalf("not adopted: %+v (was pid %d)", st, old.PID)
	}
	if h := s2.History("web"); len(h) != 1 {
		t.Fatalf("adoption started another: %+v", h)
	}
	kill(t, old.PID, syscall.SIGKILL)
	st = waitFor(t, s2, "web", 2*time.Second, "told of the death", func(st Status) bool { return st.LastVerdict != "" })
	if st.LastVerdict != VerdictKilled {
		t.Fatalf("verdict %q (still its parent: the exit status is known)", st.LastVerdict)
	}
	waitRunning(t, s2, "web")
}

// webui SIGKILLed: the app runs on (its output is a file, no pipe to give
// it SIGPIPE), and the next webui, no longer its parent, adopts it and is
// still told of its death.
func TestAdoptAfterWebuiDied(t *testing.T) {
	root := t.TempDir()
	d := dirs{filepath.Join(root, "state"), filepath.Join(root, "run"), filepath.Join(root, "log"), filepath.Join(root, "home")}
	_ = os.MkdirAll(d.home, 0o755)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), "APPS_TEST_SUPERVISE="+root, "APPS_TEST_APP="+testApp)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Process.Kill(); _ = helper.Wait() }()
	var rec record
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(d.run, "apps", "web.json"))
		if json.Unmarshal(b, &rec) == nil && rec.PID > 0 {
			if _, err := httpGet("127.0.0.1:"+strconv.Itoa(rec.Port), "/healthz"); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper's app never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	addr := "127.0.0.1:" + strconv.Itoa(rec.Port)
	for i := 0; i < 20; i++ { // each request writes a line to its stdout
		if _, err := httpGet(addr, "/"); err != nil {
			t.Fatalf("request %d after webui died: %v", i, err)
		}
	}
	if !proc.Alive(rec.PID) {
		t.Fatal("the app died with webui")
	}
	s := start(t, d.config(), []Spec{appSpec("web")}, nil)
	st := waitRunning(t, s, "web")
	if st.PID != rec.PID {
		t.Fatalf("pid %d, want the adopted %d", st.PID, rec.PID)
	}
	kill(t, rec.PID, syscall.SIGKILL)
	st = waitFor(t, s, "web", 2*time.Second, "told of the death", func(st Status) bool { return st.LastVerdict != "" })
	if st.LastVerdict != VerdictUnobserved {
		t.Fatalf("verdict %q, want %q (not its parent)", st.LastVerdict, VerdictUnobserved)
	}
	waitRunning(t, s, "web")
}

func TestLogRotationWithLiveWriter(t *testing.T) {
	d := newDirs(t)
	cfg := d.config()
	cfg.LogMaxBytes, cfg.LogKeep, cfg.RotateEvery, cfg.StartTimeout = 4000, 2, 30*time.Millisecond, time.Minute
	s := start(t, cfg, []Spec{shSpec("chatty", `i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.002; done`)}, nil)
	log := s.LogFile("chatty")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err1 := os.Stat(log + ".1")
		_, err2 := os.Stat(log + ".2")
		if err1 == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no rotation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(log + ".3"); err == nil {
		t.Error("more old logs than LogKeep")
	}
	for _, f := range []string{log, log + ".1"} {
		b, _ := os.ReadFile(f)
		if strings.ContainsRune(string(b), 0) {
			t.Fatalf("%s has a hole of zeros after the truncate", f)
		}
		if len(b) > 3*4000 {
			t.Errorf("%s is %d bytes", f, len(b))
		}
	}
	// Follow sees new lines after a rotation.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var got []string
	_ = s.Logs(ctx, "chatty", 1, true, func(l string) {
		if got = append(got, l); len(got) > 100 {
			cancel()
		}
	})
	if len(got) <= 100 {
		t.Fatalf("follow saw %d lines", len(got))
	}
}

// A request that finds the app's port refused right after its death waits
// for the restart: Wait never answers with the dead process.
func TestWaitAfterRefusedDial(t *testing.T) {
	d := newDirs(t)
	s := start(t, d.config(), []Spec{appSpec("web")}, nil)
	for i := 0; i < 3; i++ {
		old := waitRunning(t, s, "web")
		kill(t, old.PID, syscall.SIGKILL)
		for { // until the port refuses, as the proxy would find it
			if _, err := httpGet(s.Addr("web"), "/healthz"); err != nil {
				break
			}
		}
		st := waitRunning(t, s, "web")
		if st.PID == old.PID {
			t.Fatalf("Wait answered with the dead pid %d", old.PID)
		}
		if _, err := httpGet(s.Addr("web"), "/healthz"); err != nil {
			t.Fatalf("after Wait: %v", err)
		}
	}
}

// On Android a restart waits restart_delay after the exit, and a SIGKILL
// soon after a start is the kill window.
func TestAndroidRestartDelay(t *testing.T) {
	d := newDirs(t)
	cfg := d.config()
	cfg.Android, cfg.RestartDelay = true, 400*time.Millisecond
	s := start(t, cfg, []Spec{appSpec("web")}, nil)
	old := waitRunning(t, s, "web")
	kill(t, old.PID, syscall.SIGKILL)
	st := waitFor(t, s, "web", 2*time.Second, "in backoff", func(st Status) bool { return st.State == StateBackoff })
	waitRunning(t, s, "web")
	h := s.History("web")
	if gap := h[0].StartedAt.Sub(*h[1].EndedAt); gap < cfg.RestartDelay || st.NextTry == nil {
		t.Fatalf("restarted %s after the exit (next_try %v), want ≥ %s", gap, st.NextTry, cfg.RestartDelay)
	}
	if h[1].Verdict != VerdictRestartWindow || !strings.Contains(h[1].Hint, "restart_delay") {
		t.Fatalf("lifetime %+v", h[1])
	}
}
