package app_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
)

// Pids above the kernel's pid_max on this machine cannot run.
func deadPID(t *testing.T, n int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	max := 4194304
	if err == nil {
		fmt.Sscan(string(b), &max)
	}
	return max + n
}

// lifetime writes a lifetime record as `webui serve` would have: a
// first-line marker, then events, each a JSON object without "t" (added
// one second apart from start).
func (s *sandbox) lifetime(start time.Time, pid int, crash string, events ...string) string {
	s.t.Helper()
	id := start.UTC().Format("20060102T150405.000000Z") + "-" + fmt.Sprint(pid)
	var b strings.Builder
	fmt.Fprintf(&b, `{"event":"first-line","t":%q,"pid":%d,"ppid":1,"version":"1.2.3"}`+"\n", start.UTC().Format(time.RFC3339Nano), pid)
	for i, e := range events {
		t := start.Add(time.Duration(i+1) * time.Second).UTC().Format(time.RFC3339Nano)
		fmt.Fprintf(&b, `{"t":%q,%s`+"\n", t, strings.TrimPrefix(e, "{"))
	}
	s.write(paths.State(s.state).Lifetimes().Record(id), b.String())
	if crash != "" {
		s.write(filepath.Join(string(paths.State(s.state).Lifetimes()), id+".crash"), crash)
	}
	return id
}

const (
	evInstalled = `{"event":"installed"}`
	evReady     = `{"event":"ready","addr":"127.0.0.1:8787"}`
)

// craftLives leaves three ended lifetimes: a `ctl stop`, an untraced
// kill, and (newest) a crash.
func craftLives(s *sandbox) (stopped, killed, crashed string) {
	day := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	stopped = s.lifetime(day, deadPID(s.t, 1), "", evInstalled, evReady,
		`{"event":"exit","reason":"SIGTERM","signal":15,"intent":"ctl stop","code":0}`)
	killed = s.lifetime(day.Add(time.Hour), deadPID(s.t, 2), "", evInstalled, evReady)
	crashed = s.lifetime(day.Add(2*time.Hour), deadPID(s.t, 3),
		"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/webui/main.go:5 +0x1d\n", evInstalled, evReady)
	return stopped, killed, crashed
}

func TestDiagnose(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.Diagnose, "")
	r.expect(t, exitcode.OK, "")
	if !strings.Contains(r.stdout, "no lifetimes recorded") {
		t.Errorf("empty state dir: %s", r)
	}
	r = s.run(app.Diagnose, "", "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("empty state dir --json: %s", r)
	}

	stopped, killed, crashed := craftLives(s)
	r = s.run(app.Diagnose, "", "--json")
	r.expect(t, exitcode.OK, "")
	var lts []struct {
		ID, Verdict, Reason, Summary string
		PID                          int
	}
	if err := json.Unmarshal([]byte(r.stdout), &lts); err != nil {
		t.Fatalf("diagnose --json: %v\n%s", err, r.stdout)
	}
	want := []struct{ id, verdict, summary string }{
		{crashed, diag.Crash, "panic: boom at /src/webui/main.go:5"},
		{killed, diag.KilledUntraced, ""},
		{stopped, diag.CleanExit, "ctl stop"},
	}
	if len(lts) != len(want) {
		t.Fatalf("diagnose --json: %d lifetimes, want %d (newest first)\n%s", len(lts), len(want), r.stdout)
	}
	for i, w := range want {
		if lts[i].ID != w.id || lts[i].Verdict != w.verdict || !strings.Contains(lts[i].Summary, w.summary) {
			t.Errorf("lifetime %d: %+v, want id %s verdict %s summary with %q", i, lts[i], w.id, w.verdict, w.summary)
		}
	}

	r = s.run(app.Diagnose, "", "-n", "1")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 1 || !strings.Contains(lines[0], diag.Crash) {
		t.Errorf("diagnose -n 1: %s", r)
	}
	r = s.run(app.Diagnose, "", "--id", fmt.Sprint(deadPID(t, 2)))
	if r.code != 0 || !strings.Contains(r.stdout, "id:       "+killed) || !strings.Contains(r.stdout, `"event":"ready"`) {
		t.Errorf("diagnose --id PID: %s", r)
	}
	if r = s.run(app.Diagnose, "", "--id", "nosuchlifetime"); r.code == 0 || r.err == nil {
		t.Errorf("diagnose --id of nothing: %s", r)
	}
	s.run(app.Diagnose, "", "-n", "x").expect(t, exitcode.Usage, "-n")

	// A broken config file is when diagnose is needed most.
	s.write(s.cf, "this is not a setting\n")
	r = s.run(app.Diagnose, "", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "config file ignored") || !strings.Contains(r.stdout, crashed) {
		t.Errorf("diagnose with a broken config file: %s", r)
	}
}

func ctlStatus(t *testing.T, s *sandbox, args ...string) (result, map[string]any) {
	t.Helper()
	r := s.run(app.Ctl, "", append([]string{"status", "--json", "--timeout", "500ms"}, args...)...)
	var st map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("ctl status --json: %v\n%s", err, r)
	}
	if r.err != nil && !app.IsSilent(r.err) {
		t.Errorf("ctl status printed its error besides the document: %s", r)
	}
	return r, st
}

// `ctl status` says what state the server is in, in the document and in
// the exit code scripts test.
func TestCtlStatus(t *testing.T) {
	t.Run("never started", func(t *testing.T) {
		s := newSandbox(t)
		r, st := ctlStatus(t, s)
		if r.code != ctl.StatusStopped || st["state"] != ctl.StateStopped || st["addr"] != s.env["WEBUI_ADDR"] ||
			!strings.Contains(fmt.Sprint(st["summary"]), "never started") {
			t.Errorf("ctl status: %s", r)
		}
		r = s.run(app.Ctl, "", "status", "--quiet")
		if r.code != ctl.StatusStopped || r.stdout != "" || r.stderr != "" {
			t.Errorf("ctl status --quiet: %s", r)
		}
		r = s.run(app.Ctl, "", "status")
		if r.code != ctl.StatusStopped || !strings.HasPrefix(r.stdout, "webui: stopped") {
			t.Errorf("ctl status: %s", r)
		}
	})
	t.Run("stopped on purpose", func(t *testing.T) {
		s := newSandbox(t)
		r := s.run(app.Ctl, "", "stop")
		r.expect(t, exitcode.OK, "")
		if !strings.Contains(r.stdout, "not running") {
			t.Errorf("ctl stop with nothing running: %s", r)
		}
		craftLives(s)
		r, st := ctlStatus(t, s)
		if r.code != ctl.StatusStopped || st["state"] != ctl.StateStopped || !strings.Contains(fmt.Sprint(st["stopped_by"]), "ctl stop") {
			t.Errorf("after ctl stop: %s", r)
		}
	})
	t.Run("dead", func(t *testing.T) {
		s := newSandbox(t)
		_, _, crashed := craftLives(s)
		s.write(paths.Run(s.runDir).PIDFile(), fmt.Sprintln(deadPID(t, 3)))
		r, st := ctlStatus(t, s)
		last, _ := st["last_death"].(map[string]any)
		if r.code != ctl.StatusDead || st["state"] != ctl.StateDead || last["id"] != crashed {
			t.Errorf("a server that died: %s", r)
		}
	})
	t.Run("running", func(t *testing.T) {
		s := newSandbox(t)
		pf := holdPIDFile(t, s)
		defer pf.Release()
		ln, err := net.Listen("tcp", s.env["WEBUI_ADDR"])
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `{"status":"ok","version":"9.9.9","pid":%d,"started_at":"2026-11-01T10:00:00Z","uptime_s":61,"restart":{"strategy":"exec","why":"test"}}`, os.Getpid())
		})}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		r, st := ctlStatus(t, s)
		if r.code != ctl.StatusRunning || st["state"] != ctl.StateRunning || st["version"] != "9.9.9" || st["pid"] != float64(os.Getpid()) {
			t.Errorf("a healthy server: %s", r)
		}
		if r = s.run(app.Ctl, "", "status"); r.code != 0 || !strings.HasPrefix(r.stdout, "webui: running (pid "+fmt.Sprint(os.Getpid())) ||
			!lineWith(r.stdout, "restart:", "exec (test)") {
			t.Errorf("ctl status text: %s", r)
		}
	})
	t.Run("running, not answering", func(t *testing.T) {
		s := newSandbox(t)
		pf := holdPIDFile(t, s)
		defer pf.Release()
		r, st := ctlStatus(t, s)
		if r.code != ctl.StatusUnhealthy || st["state"] != ctl.StateUnhealthy {
			t.Errorf("a server that does not answer: %s", r)
		}
	})
	t.Run("flag error", func(t *testing.T) {
		s := newSandbox(t)
		s.run(app.Ctl, "", "status", "--timeout", "soon").expect(t, exitcode.Usage, "timeout")
		s.run(app.Ctl, "", "status", "extra").expect(t, exitcode.Usage, `"extra"`)
	})
}

// holdPIDFile makes this test process the running server, as far as the
// pid file says.
func holdPIDFile(t *testing.T, s *sandbox) *proc.PIDFile {
	t.Helper()
	if err := os.MkdirAll(s.runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	pf, err := proc.Acquire(paths.Run(s.runDir).PIDFile())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// `webui serve` refuses to start, before it listens, what must not run.
func TestServeRefuses(t *testing.T) {
	t.Run("open bind without a password", func(t *testing.T) {
		s := newSandbox(t)
		s.env["WEBUI_ADDR"] = "0.0.0.0:0"
		s.run(app.Serve, "").expect(t, exitcode.Usage, "without a password")
	})
	t.Run("bad config file", func(t *testing.T) {
		s := newSandbox(t)
		s.write(s.cf, "max_conns = lots\n")
		s.run(app.Serve, "").expect(t, exitcode.Usage, "webui.conf:1")
	})
	t.Run("already running", func(t *testing.T) {
		s := newSandbox(t)
		pf := holdPIDFile(t, s)
		defer pf.Release()
		s.run(app.Serve, "").expect(t, exitcode.Running, fmt.Sprintf("already running (pid %d)", os.Getpid()))
		if _, err := net.Dial("tcp", s.env["WEBUI_ADDR"]); err == nil {
			t.Error("a refused server listens")
		}
	})
}

func TestWatchdogCheck(t *testing.T) {
	s := newSandbox(t)
	s.run(app.Watchdog, "", "--check").expect(t, exitcode.OK, "")
	s.run(app.Watchdog, "", "--check", "--interval", "0s").expect(t, exitcode.Usage, "--interval must be a positive duration")
	s.run(app.Watchdog, "", "--check", "--failures", "0").expect(t, exitcode.Usage, "--failures")
	s.run(app.Watchdog, "", "--check", "--backoff-base", "2m", "--backoff-max", "1m").expect(t, exitcode.Usage, "--backoff-max")
	s.write(s.cf, "restart_delay = soon\n")
	s.run(app.Watchdog, "", "--check").expect(t, exitcode.Usage, "restart_delay")
	s.write(s.cf, "\n")

	if err := os.MkdirAll(s.runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	wd, err := proc.Acquire(paths.Run(s.runDir).WatchdogPID())
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Release()
	s.run(app.Watchdog, "", "--check").expect(t, exitcode.Running, fmt.Sprintf("a watchdog already runs (pid %d)", os.Getpid()))
}

func TestBoot(t *testing.T) {
	s := newSandbox(t)
	script := ctl.BootPath(s.home)
	steps := []struct {
		args   []string
		code   int
		stdout string
		exists bool
	}{
		{[]string{"status"}, 3, "disabled", false},
		{[]string{"disable"}, 0, "already disabled", false},
		{[]string{"enable"}, 0, "enabled: " + script, true},
		{[]string{"status"}, 0, "enabled: " + script, true},
		{[]string{"enable"}, 0, "already enabled", true},
		{[]string{"disable"}, 0, "disabled: removed " + script, false},
		{[]string{"status"}, 3, "disabled", false},
	}
	for _, st := range steps {
		r := s.run(app.Boot, "", st.args...)
		if r.code != st.code || !strings.HasPrefix(r.stdout, st.stdout) {
			t.Fatalf("boot %v: want exit %d and %q: %s", st.args, st.code, st.stdout, r)
		}
		if _, err := os.Stat(script); (err == nil) != st.exists {
			t.Fatalf("boot %v: script exists = %v, want %v", st.args, err == nil, st.exists)
		}
	}
	delete(s.env, "HOME")
	s.run(app.Boot, "", "status").expect(t, exitcode.Usage, "HOME is not set")
}

// The hidden restart-helper refuses a command line the old server could
// not have meant.
func TestRestartHelperFlags(t *testing.T) {
	s := newSandbox(t)
	cases := []struct {
		args []string
		want string
	}{
		{nil, "need --old-pid"},
		{[]string{"--old-pid", "5"}, "absolute server command"},
		{[]string{"--old-pid", "5", "--", "webui", "serve"}, "absolute server command"},
		{[]string{"--old-pid", "0", "--", "/usr/bin/webui"}, "need --old-pid"},
		{[]string{"--old-pid", "5", "--schedule", "delay=1s", "--", "/usr/bin/webui"}, "schedule"},
		{[]string{"--old-pid", "x"}, "old-pid"},
	}
	for _, c := range cases {
		s.run(app.RestartHelper, "", c.args...).expect(t, exitcode.Usage, c.want)
	}
}

// `ctl logs` prints the last lines of the server's log, readable or as the
// JSON lines they are.
func TestCtlLogs(t *testing.T) {
	s := newSandbox(t)
	s.run(app.Ctl, "", "logs").expect(t, exitcode.Failure, "webui.log")
	var lines []string
	for i, msg := range []string{"first", "second", "third"} {
		lines = append(lines, fmt.Sprintf(`{"level":"info","msg":%q,"time":"2026-11-01T10:00:0%dZ","n":%d}`, msg, i, i))
	}
	s.write(paths.Log(s.log).Server(), strings.Join(lines, "\n")+"\n")

	r := s.run(app.Ctl, "", "logs", "-n", "2")
	r.expect(t, exitcode.OK, "")
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(got) != 2 || !lineWith(got[0], "INFO", "second", "n=1") || !lineWith(got[1], "INFO", "third", "n=2") {
		t.Errorf("ctl logs -n 2:\n%s", r.stdout)
	}
	r = s.run(app.Ctl, "", "logs", "-n", "1", "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != lines[2] {
		t.Errorf("ctl logs --json: %s", r)
	}
	s.run(app.Ctl, "", "logs", "-n", "-1").expect(t, exitcode.Usage, "-n must be 0 or more")
}

// `doctor --json` is the documented document with the stable check ids.
func TestDoctorJSON(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.Doctor, "", "--json", "--offline")
	if r.code != exitcode.OK && r.code != exitcode.Failure {
		t.Fatalf("doctor: %s", r)
	}
	var doc struct {
		Checks []struct{ ID, Status, Summary, Fix string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, r.stdout)
	}
	failed := false
	ids := map[string]bool{}
	for _, c := range doc.Checks {
		ids[c.ID] = true
		switch c.Status {
		case "ok", "warn":
		case "fail":
			failed = true
		default:
			t.Errorf("check %s: status %q", c.ID, c.Status)
		}
		if c.Summary == "" {
			t.Errorf("check %s has no summary", c.ID)
		}
	}
	for _, id := range []string{"freezes", "phantom", "boot"} {
		if !ids[id] {
			t.Errorf("doctor has no %q check: %v", id, ids)
		}
	}
	if failed != (r.code == exitcode.Failure) {
		t.Errorf("doctor exit %d with a failed check = %v", r.code, failed)
	}
}
