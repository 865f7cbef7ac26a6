package integration

// Tests of `webui ctl`, `webui watchdog`, `webui boot` and the launcher
// scripts: the server comes back by itself, and stays down when told to.

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestCtlConcurrentStarts(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	type result struct {
		code     int
		out, err string
	}
	var res [3]result
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errOut := e.run([]string{"ctl", "start"})
			res[i] = result{code, out, errOut}
		}()
	}
	wg.Wait()
	pids := map[string]bool{}
	started := 0
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("start %d: exit %d\n%s%s", i, r.code, r.out, r.err)
			continue
		}
		m := ctlPIDRe.FindStringSubmatch(r.out)
		if m == nil {
			t.Errorf("start %d: no pid in %q", i, r.out)
			continue
		}
		pids[m[1]] = true
		if strings.HasPrefix(r.out, "webui started") {
			started++
		} else if !strings.HasPrefix(r.out, "webui is already running") {
			t.Errorf("start %d: %q", i, r.out)
		}
		t.Logf("start %d: %s", i, strings.TrimSpace(r.out))
	}
	if len(pids) != 1 || started != 1 {
		t.Fatalf("want exactly one server, reported by all: pids %v, %d said started", pids, started)
	}
	// Not a terminal: each says how to get the link, and none prints the
	// token (a boot script's log would keep it).
	tok := ownerToken(t, e.path("state"))
	for i, r := range res {
		if !strings.Contains(r.out, "sign in: run `webui url`") || strings.Contains(r.out, tok) {
			t.Errorf("start %d: want the `webui url` hint and no token: %q", i, r.out)
		}
	}
	h := e.waitHealth(5*time.Second, nil)
	if !pids[strconv.Itoa(h.PID)] || e.serverPID() != h.PID {
		t.Errorf("/health pid %d, pid file %d, reported %v", h.PID, e.serverPID(), pids)
	}
	running := 0
	for _, lt := range e.lifetimes() {
		if lt.Verdict == "running" {
			running++
		}
	}
	if running != 1 {
		t.Errorf("%d running lifetimes", running)
	}
}

func TestCtlStatusExitCodes(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	status := func(want int, extra ...string) string {
		t.Helper()
		return e.mustRun(want, []string{"ctl", "status"}, extra...)
	}
	statusJSON := func(want int) map[string]any {
		t.Helper()
		var m map[string]any
		out := status(want, "--json")
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		return m
	}

	if out := status(3); !strings.Contains(out, "webui: stopped") {
		t.Errorf("never started: %q", out)
	}
	if m := statusJSON(3); m["state"] != "stopped" {
		t.Errorf("never started: state %v", m["state"])
	}

	e.mustRun(0, []string{"ctl", "start"})
	out := status(0)
	h := e.waitHealth(time.Second, nil)
	for _, want := range []string{"webui: running", fmt.Sprintf("pid %d", h.PID), "version " + h.Version, "http://" + e.addr, "restart:", "watchdog:", "not running"} {
		if !strings.Contains(out, want) {
			t.Errorf("status: want %q in\n%s", want, out)
		}
	}
	m := statusJSON(0)
	restart, _ := m["restart"].(map[string]any)
	if m["state"] != "running" || m["pid"] != float64(h.PID) || m["version"] != h.Version || m["addr"] != e.addr ||
		restart["strategy"] == "" || m["uptime_s"] == nil || m["health"] != "ok" {
		t.Errorf("status --json: %v", m)
	}
	code, out, errOut := e.run([]string{"ctl", "status"}, "--quiet")
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("status --quiet: exit %d, %q %q", code, out, errOut)
	}

	// Stopped (SIGSTOP): alive, but /health does not answer.
	ctlKill(t, h.PID, syscall.SIGSTOP)
	out = status(4, "--timeout", "300ms")
	ctlKill(t, h.PID, syscall.SIGCONT)
	if !strings.Contains(out, "webui: unhealthy") {
		t.Errorf("SIGSTOPped: %q", out)
	}

	// kill -9: dead, and the verdict says how.
	ctlKill(t, h.PID, syscall.SIGKILL)
	ctlEventually(t, 5*time.Second, "the pid file is free", func() bool { return e.serverPID() == 0 })
	out = status(1)
	if !strings.Contains(out, "webui: dead") || !strings.Contains(out, "killed_untraced") {
		t.Errorf("after kill -9: %q", out)
	}
	m = statusJSON(1)
	if ld, _ := m["last_death"].(map[string]any); ld["verdict"] != "killed_untraced" || ld["pid"] != float64(h.PID) {
		t.Errorf("last_death: %v", m["last_death"])
	}
	code, out, errOut = e.run([]string{"ctl", "status"}, "--quiet")
	if code != 1 || out != "" || errOut != "" {
		t.Errorf("status --quiet when dead: exit %d, %q %q", code, out, errOut)
	}

	// ctl stop of a dead server: fine, and now it counts as stopped.
	if out := e.mustRun(0, []string{"ctl", "stop"}); !strings.Contains(out, "not running") {
		t.Errorf("stop when not running: %q", out)
	}
	if m := statusJSON(3); m["state"] != "stopped" || m["stopped_at"] == nil {
		t.Errorf("after stop: %v", m)
	}
	if code, _, errOut := e.run([]string{"ctl", "status"}, "--bogus"); code != 2 {
		t.Errorf("status --bogus: exit %d %s", code, errOut)
	}
	if code, _, _ := e.run([]string{"ctl", "frobnicate"}); code != 2 {
		t.Errorf("ctl frobnicate: exit %d", code)
	}
}

func TestCtlLogs(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.mustRun(0, []string{"ctl", "start"}, "--log-max-size-mb", "1")
	e.waitHealth(5*time.Second, nil)
	get := func(path string) {
		t.Helper()
		resp, err := ownerClient(0).Get("http://" + e.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/_test/log?n=20")
	// Info lines reach the file within the log's flush interval.
	var out string
	ctlEventually(t, 5*time.Second, "the 20 lines in the log", func() bool {
		out = e.mustRun(0, []string{"ctl", "logs"}, "-n", "5")
		return strings.Contains(out, "test log line i=19")
	})
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 5 || !strings.Contains(out, "INFO  test log line i=19") || strings.Contains(out, "{") {
		t.Errorf("logs -n 5:\n%s", out)
	}
	out = e.mustRun(0, []string{"ctl", "logs"}, "-n", "3", "--json")
	lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("logs --json: %q", l)
		}
	}
	if len(lines) != 3 {
		t.Errorf("logs -n 3 --json: %d lines", len(lines))
	}

	// Follow through a rotation: 20000 lines are more than the 1 MiB the
	// log file may grow to.
	args := append(append([]string{"ctl", "logs"}, e.settings()...), "-f", "-n", "0")
	f := exec.Command(binary, args...)
	f.Env = e.environ()
	var followed syncBuffer
	f.Stdout, f.Stderr = &followed, &followed
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	fDone := make(chan error, 1)
	go func() { fDone <- f.Wait() }()
	t.Cleanup(func() { _ = f.Process.Kill() })
	time.Sleep(300 * time.Millisecond)
	const n = 20000
	get("/_test/log?n=" + strconv.Itoa(n))
	ctlEventually(t, 15*time.Second, "logs -f shows the last line", func() bool {
		return strings.Contains(followed.String(), fmt.Sprintf("test log line i=%d\n", n-1))
	})
	rotated, _ := filepath.Glob(e.path("log/webui-*.log"))
	if len(rotated) == 0 {
		t.Error("the log did not rotate")
	}
	next := 0
	for _, l := range strings.Split(followed.String(), "\n") {
		if _, rest, ok := strings.Cut(l, "test log line i="); ok {
			if rest != strconv.Itoa(next) {
				t.Fatalf("logs -f: line i=%s, want i=%d (lost or repeated lines across the rotation)", rest, next)
			}
			next++
		}
	}
	if next != n {
		t.Errorf("logs -f showed %d of %d lines", next, n)
	}
	_ = f.Process.Signal(syscall.SIGINT)
	select {
	case err := <-fDone:
		if err != nil {
			t.Errorf("logs -f after SIGINT: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("logs -f ignored SIGINT")
	}
}

// TestCtlRestart: restart goes through the server's restart engine
// (SIGUSR2) and waits for a new ctlLifetime; with no server it starts one.
func TestCtlRestart(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	if out := e.mustRun(0, []string{"ctl", "restart"}); !strings.Contains(out, "was not running; started") {
		t.Errorf("restart with no server: %q", out)
	}
	before := e.waitHealth(5*time.Second, nil)
	out := e.mustRun(0, []string{"ctl", "restart"})
	after := e.waitHealth(5*time.Second, nil)
	if !strings.Contains(out, "webui restarted") || after.StartedAt.Equal(before.StartedAt) {
		t.Errorf("restart: %q; started_at %s -> %s", out, before.StartedAt, after.StartedAt)
	}
	t.Logf("%s", strings.TrimSpace(out))
}
