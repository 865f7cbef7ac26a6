package integration

// Every way webui starts a process, run under Android 11's seccomp policy
// (test/fixtures/seccomp): there a syscall newer than the app allowlist
// (pidfd_open, clone3, faccessat2, close_range, openat2, ...) kills the
// process with SIGSYS, "bad system call". The filter is inherited, so the
// servers, helpers and watchdogs webui starts run under it too.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

var seccompBins struct {
	once            sync.Once
	launcher, probe string
	err, skip       error
}

// seccompLauncher builds the launcher once; it skips (fails with CI=true)
// where the kernel refuses a seccomp filter.
func seccompLauncher(t *testing.T) string {
	t.Helper()
	b := &seccompBins
	b.once.Do(func() {
		b.launcher, b.probe, b.err = harness.BuildSeccomp(repoRoot, buildDir)
		if b.err != nil {
			return
		}
		if out, err := exec.Command(b.launcher, "/bin/true").CombinedOutput(); err != nil {
			b.skip = &harness.BuildError{Pkg: "seccomp filter refused", Err: err, Out: out}
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	if b.skip != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true needs seccomp: %v", b.skip)
		}
		t.Skipf("no seccomp here: %v", b.skip)
	}
	return b.launcher
}

// noTrap fails when anything webui wrote under dir (logs, lifetime
// records, crash files) or out shows a process seccomp stopped.
func noTrap(t *testing.T, dir string, out ...string) {
	t.Helper()
	for _, o := range out {
		if harness.Trapped(o) {
			t.Fatalf("a process hit the seccomp filter:\n%s", o)
		}
	}
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && harness.Trapped(string(b)) {
			t.Errorf("%s shows a process the seccomp filter stopped:\n%s", path, ctlLastLines(string(b), 40))
		}
		return nil
	})
}

// filtered fails unless the process runs under a seccomp filter: proof
// that the filter reached it (a child inherits it).
func filtered(t *testing.T, pid int) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil || !strings.Contains(string(b), "\nSeccomp:\t2\n") {
		t.Fatalf("pid %d runs without the seccomp filter (%v)", pid, err)
	}
}

// The launcher really traps: a program that calls pidfd_open dies of it.
func TestSeccompLauncherTraps(t *testing.T) {
	t.Parallel()
	launcher := seccompLauncher(t)
	out, err := exec.Command(seccompBins.probe).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "pidfd_open:") {
		t.Fatalf("probe alone: %v %q", err, out)
	}
	c := exec.Command(launcher, seccompBins.probe)
	out, err = c.CombinedOutput()
	if err == nil || !harness.Trapped(string(out)) || strings.Contains(string(out), "pidfd_open:") {
		t.Fatalf("probe under the launcher was not stopped: %v\n%s", err, out)
	}
}

// `webui serve` and an in-place exec restart asked for by the owner.
func TestSeccompServeExecRestart(t *testing.T) {
	t.Parallel()
	p := start(t, opts{seccomp: true})
	_, h0 := p.health(false)
	if h0.Restart["strategy"] != "exec" {
		t.Fatalf("strategy %v", h0.Restart)
	}
	postRestart(t, p.addr)
	h := waitHealth(t, p.addr, 15*time.Second, func(h health) bool { return h.StartedAt.After(h0.StartedAt) })
	if h.PID != h0.PID {
		t.Errorf("exec restart: pid %d, was %d", h.PID, h0.PID)
	}
	p.mustHealthy()
	filtered(t, h.PID)
	p.signal(syscall.SIGTERM)
	if code, sig := p.wait(15 * time.Second); code != 0 {
		t.Errorf("exit %d (signal %v) after SIGTERM", code, sig)
	}
	noTrap(t, p.dir, p.stderr.String())
}

// The delayed restart: a detached helper waits out the old process and
// starts the new server.
func TestSeccompDelayedRestart(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	p := start(t, opts{seccomp: true, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "0", "--restart-survive", "1s"}})
	_, h0 := p.health(false)
	if h0.Restart["strategy"] != "delayed" {
		t.Fatalf("strategy %v", h0.Restart)
	}
	postRestart(t, p.addr)
	h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
	t.Cleanup(func() { stopPID(t, h.PID) })
	filtered(t, h.PID)
	if code, sig := p.wait(10 * time.Second); code != 0 {
		t.Errorf("the old server exited %d (signal %v)", code, sig)
	}
	state := filepath.Join(p.dir, "state")
	waitFor(t, 10*time.Second, "the helper sees the new server survive", func() bool {
		return strings.Contains(strings.Join(helperSteps(t, state), ","), "survived")
	})
	if steps := strings.Join(helperSteps(t, state), ","); strings.Contains(steps, "killed") {
		t.Errorf("helper steps %s", steps)
	}
	noTrap(t, p.dir, p.stderr.String())
}

// `ctl start` spawns a detached server; `ctl stop` ends it.
func TestSeccompCtlStartStop(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.under = seccompLauncher(t)
	out := e.mustRun(0, []string{"ctl", "start"})
	h := e.waitHealth(10*time.Second, nil)
	if e.serverPID() != h.PID {
		t.Fatalf("pid file %d, /health pid %d", e.serverPID(), h.PID)
	}
	filtered(t, h.PID)
	out += e.mustRun(0, []string{"ctl", "stop"})
	if _, err := e.health(); err == nil || e.serverPID() != 0 {
		t.Fatalf("server pid %d still up after ctl stop", h.PID)
	}
	noTrap(t, e.dir, out)
}

// The watchdog starts a new server after the old one is killed -9.
func TestSeccompWatchdogRestoresKilledServer(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.under = seccompLauncher(t)
	e.mustRun(0, []string{"ctl", "start"})
	old := e.waitHealth(10*time.Second, nil)
	w := e.watchdog("--interval", "200ms", "--timeout", "300ms", "--failures", "2", "--stable-after", "300ms", "--backoff-base", "100ms")
	time.Sleep(600 * time.Millisecond) // seen healthy
	ctlKill(t, old.PID, syscall.SIGKILL)
	h := e.waitHealth(15*time.Second, func(h *health) bool { return h.PID != old.PID })
	ctlEventually(t, 5*time.Second, "the watchdog logs the start", func() bool {
		return strings.Contains(e.watchdogLog(), "started server pid "+strconv.Itoa(h.PID))
	})
	if !harness.PIDAlive(w.Process.Pid) {
		t.Fatal("the watchdog died")
	}
	filtered(t, h.PID)
	noTrap(t, e.dir, e.watchdogOut.String())
}

// `webui url --open` runs the platform's opener (a stub here).
func TestSeccompURLOpen(t *testing.T) {
	t.Parallel()
	launcher := seccompLauncher(t)
	p := start(t, opts{seccomp: true})
	bin := t.TempDir()
	argvFile := filepath.Join(bin, "argv")
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+argvFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := harness.Command(launcher, binary, "url", "--open", "--state-dir", filepath.Join(p.dir, "state"), "--addr", p.addr)
	c.Env = harness.Env(t.TempDir(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("url --open: %v\n%s", err, out)
	}
	b, err := os.ReadFile(argvFile)
	if link := strings.TrimSpace(string(b)); err != nil || !strings.HasPrefix(link, "http://"+p.addr+"/login?token=") {
		t.Fatalf("the opener got %q (%v)", link, err)
	}
	noTrap(t, p.dir, string(out), p.stderr.String())
}

// With a watchdog running, the watchdog starts the next server of a
// delayed restart.
func TestSeccompWatchdogDelayedRestart(t *testing.T) {
	t.Parallel()
	launcher := seccompLauncher(t)
	addr := freeAddr(t)
	p := start(t, opts{seccomp: true, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "0", "--restart-survive", "1s"}})
	_, h0 := p.health(false)
	c := harness.Command(launcher, binary, append(append([]string{"watchdog"}, harness.Dir(p.dir).Settings(addr)...), "--interval", "10m")...)
	c.Env = baseEnv(p.dir)
	// Cleanups run last first: launch's kills the watchdog before this
	// stops the server then holding the pid file. The other way round, the
	// watchdog took the SIGTERM for an outage and started one more server,
	// which outlived the test.
	t.Cleanup(func() {
		if pid := ctlHolder(filepath.Join(p.dir, "run", "webui.pid")); pid > 0 {
			stopPID(t, pid)
		}
	})
	w := launch(t, c, p.dir, nil)
	ctlEventually(t, 10*time.Second, "the watchdog holds its pid file", func() bool {
		return ctlHolder(filepath.Join(p.dir, "run", "webui-watchdog.pid")) == w.pid()
	})
	postRestart(t, addr)
	h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
	filtered(t, h.PID)
	state := filepath.Join(p.dir, "state")
	if steps := waitSteps(t, state, "survived", 10*time.Second); !strings.HasSuffix(steps, "spawned,survived") {
		t.Fatalf("starter steps %s", steps)
	}
	rec, _ := filepath.Glob(filepath.Join(state, "lifetimes", "*-"+strconv.Itoa(h0.PID)+".jsonl"))
	if len(rec) != 1 {
		t.Fatalf("records of pid %d: %v", h0.PID, rec)
	}
	if b, err := os.ReadFile(rec[0]); err != nil || !strings.Contains(string(b), `"by":"watchdog"`) {
		t.Errorf("the watchdog did not carry the restart (%v):\n%s", err, b)
	}
	if !w.alive() {
		t.Fatalf("the watchdog died: %s", w.stderr.String())
	}
	noTrap(t, p.dir, p.stderr.String(), w.stderr.String())
}
