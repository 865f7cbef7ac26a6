package integration

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listeners returns the pids with a socket listening on addr's port
// (from /proc/net/tcp and every process's fds).
func listeners(t *testing.T, addr string) []int {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	want, _ := strconv.Atoi(port)
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) < 10 || fl[3] != "0A" { // LISTEN
				continue
			}
			_, hp, _ := strings.Cut(fl[1], ":")
			pb, err := hex.DecodeString(hp)
			if err != nil || len(pb) != 2 || int(pb[0])<<8|int(pb[1]) != want {
				continue
			}
			inodes["socket:["+fl[9]+"]"] = true
		}
	}
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir("/proc/" + e.Name() + "/fd")
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + e.Name() + "/fd/" + fd.Name()); err == nil && inodes[l] {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// oneListener asserts that exactly pid listens on addr.
func oneListener(t *testing.T, addr string, pid int) {
	t.Helper()
	if got := listeners(t, addr); len(got) != 1 || got[0] != pid {
		t.Fatalf("listening on %s: pids %v, want just %d", addr, got, pid)
	}
}

// killsDiagnosed asserts that every start the fixture killed is named
// killed_in_restart_window, and returns how many it killed.
func killsDiagnosed(t *testing.T, klog, stateDir string) int {
	t.Helper()
	kl, _ := os.ReadFile(klog)
	var killed []int
	for _, line := range strings.Split(string(kl), "\n") {
		var pid int
		if i := strings.Index(line, "killed pid "); i >= 0 && strings.Contains(line, "(server)") {
			fmt.Sscan(line[i+len("killed pid "):], &pid)
			killed = append(killed, pid)
		}
		if strings.Contains(line, "killed pid") && !strings.Contains(line, "(server)") {
			t.Errorf("the fixture killed a process that carries the restart: %s", line)
		}
	}
	byPID := map[int]string{}
	for _, lt := range diagnose(t, stateDir) {
		if lt.Verdict == "killed_in_restart_window" || byPID[lt.PID] == "" {
			byPID[lt.PID] = lt.Verdict
		}
	}
	for _, pid := range killed {
		if byPID[pid] != "killed_in_restart_window" {
			t.Errorf("pid %d, killed by the fixture, is diagnosed %q\nfixture:\n%s", pid, byPID[pid], kl)
		}
	}
	return len(killed)
}

// startWatchdog runs `webui watchdog` from bin for p's settings.
func startWatchdog(t *testing.T, bin string, p *proc, addr string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"watchdog", "--addr", addr,
		"--state-dir", filepath.Join(p.dir, "state"), "--log-dir", filepath.Join(p.dir, "log"),
		"--run-dir", filepath.Join(p.dir, "run"), "--config", filepath.Join(p.dir, "webui.conf")}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = baseEnv(p.dir)
	w := launch(t, cmd, p.dir, nil)
	deadline := time.Now().Add(5 * time.Second)
	for ctlHolder(filepath.Join(p.dir, "run", "webui-watchdog.pid")) != w.pid() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return w
}

func waitSteps(t *testing.T, state, suffix string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		steps := strings.Join(helperSteps(t, state), ",")
		if strings.HasSuffix(steps, suffix) || time.Now().After(deadline) {
			return steps
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The delayed restart alone with a 10 s window: the helper, exec'd
// schedule.Lead before the old server exits, starts the server after the
// delay, and nothing of the binary is killed.
func TestStrictWindowTen(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	klog := startKillWindow(t, bin, 10*time.Second)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "11s", "--restart-survive", "1s"}})
	_, h0 := p.health(false)
	postRestart(t, addr)
	h := waitHealth(t, addr, 25*time.Second, func(h health) bool { return h.PID != h0.PID })
	state := filepath.Join(p.dir, "state")
	if steps := waitSteps(t, state, "survived", 5*time.Second); steps != "started,old-gone,delay-done,spawned,survived" {
		kl, _ := os.ReadFile(klog)
		t.Fatalf("helper steps %s\nfixture:\n%s", steps, kl)
	}
	if n := killsDiagnosed(t, klog, state); n != 0 {
		t.Errorf("%d starts killed with restart_delay 11s and W 10s", n)
	}
	oneListener(t, addr, h.PID)
	stopPID(t, h.PID)
}

// With a watchdog running, the watchdog carries the delayed restart out:
// no helper is exec'd, killed starts are retried on the schedule and
// diagnosed, and one server listens at the end. Its probes are 10 min
// apart: it learns of the exit from the pid file lock.
func TestStrictWindowWatchdogRestart(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	klog := startKillWindow(t, bin, 3*time.Second)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "1s", "--restart-survive", "1s"}})
	_, h0 := p.health(false)
	w := startWatchdog(t, bin, p, addr, "--interval", "10m")
	time.Sleep(time.Second) // a margin on the 2 s lead, should the fixture see the exec late
	postRestart(t, addr)
	h := waitHealth(t, addr, 30*time.Second, func(h health) bool { return h.PID != h0.PID })
	state := filepath.Join(p.dir, "state")
	steps := waitSteps(t, state, "survived", 10*time.Second)
	if !strings.HasPrefix(steps, "started,old-gone,delay-done,spawned") || !strings.HasSuffix(steps, "spawned,survived") {
		t.Fatalf("starter steps %s", steps)
	}
	rec, _ := filepath.Glob(filepath.Join(state, "lifetimes", "*-"+strconv.Itoa(h0.PID)+".jsonl"))
	b, _ := os.ReadFile(rec[0])
	if !strings.Contains(string(b), `"by":"watchdog"`) || strings.Contains(string(b), `"by":"helper"`) {
		t.Errorf("the watchdog did not carry the restart alone:\n%s", b)
	}
	kills := killsDiagnosed(t, klog, state)
	t.Logf("watchdog-carried restart: %d starts killed, steps %s", kills, steps)
	if !w.alive() {
		t.Fatalf("the watchdog died: %s", w.stderr.String())
	}
	oneListener(t, addr, h.PID)
	w.signal(syscall.SIGTERM)
	w.wait(10 * time.Second)
	stopPID(t, h.PID)
}

// restart_attempts = 8: the helper retries past the watchdog's old bound,
// and a watchdog started while it is at work waits for it instead of
// starting a second server.
func TestStrictWindowAttempts8(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	klog := startKillWindow(t, bin, 5*time.Second)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "0", "--restart-survive", "1s", "--restart-attempts", "8"}})
	_, h0 := p.health(false)
	postRestart(t, addr)
	// Attempts come at +0, +1 and +3 s after the old server's exit
	// (killed) and at +7 s. Start the watchdog after the window, while
	// the helper waits for attempt 4.
	if code, _ := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("the old server exited %d", code)
	}
	time.Sleep(time.Until(exitTime(t, filepath.Join(p.dir, "state"), h0.PID).Add(5500 * time.Millisecond)))
	w := startWatchdog(t, bin, p, addr, "--interval", "200ms", "--timeout", "300ms")
	h := waitHealth(t, addr, 30*time.Second, func(h health) bool { return h.PID != h0.PID })
	state := filepath.Join(p.dir, "state")
	steps := waitSteps(t, state, "survived", 10*time.Second)
	if strings.Count(steps, "spawned") < 2 || !strings.HasSuffix(steps, "spawned,survived") {
		t.Fatalf("helper steps %s", steps)
	}
	if n := killsDiagnosed(t, klog, state); n < 1 {
		t.Errorf("no start was killed: the test did not exercise the retries")
	}
	time.Sleep(time.Second) // the watchdog would start its own now, if it did not wait
	oneListener(t, addr, h.PID)
	wlog, _ := os.ReadFile(filepath.Join(p.dir, "log", "watchdog.log"))
	if !strings.Contains(string(wlog), "waiting for it to finish") || !strings.Contains(string(wlog), "its helper started it") || strings.Contains(string(wlog), "started server pid") {
		t.Errorf("watchdog log:\n%s", wlog)
	}
	w.signal(syscall.SIGTERM)
	w.wait(10 * time.Second)
	stopPID(t, h.PID)
}

// `ctl stop` during the starter's survival window wins, whether the
// helper or the watchdog started the server: nothing more is started, and
// nothing listens afterwards.
func TestStrictWindowStopDuringSurvival(t *testing.T) {
	t.Parallel()
	t.Run("helper", func(t *testing.T) { t.Parallel(); stopDuringSurvival(t, false) })
	t.Run("watchdog", func(t *testing.T) { t.Parallel(); stopDuringSurvival(t, true) })
}

func stopDuringSurvival(t *testing.T, withWatchdog bool) {
	bin := ownBinary(t, binary)
	klog := startKillWindow(t, bin, 3*time.Second)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "4s", "--restart-survive", "4s"}})
	_, h0 := p.health(false)
	if withWatchdog {
		w := startWatchdog(t, bin, p, addr, "--interval", "200ms", "--timeout", "300ms")
		defer func() { w.signal(syscall.SIGTERM); w.wait(10 * time.Second) }()
		time.Sleep(time.Second) // a margin on the 2 s lead, should the fixture see the exec late
	}
	postRestart(t, addr)
	h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
	// The CLI runs from the shared binary: the strict window would also
	// take a CLI of the watched binary exec'd just before the exit.
	settings := []string{"--addr", addr, "--state-dir", filepath.Join(p.dir, "state"), "--log-dir", filepath.Join(p.dir, "log"),
		"--run-dir", filepath.Join(p.dir, "run"), "--config", filepath.Join(p.dir, "webui.conf")}
	if code, out, errOut := runCLI(t, nil, append([]string{"ctl", "stop"}, settings...)...); code != 0 {
		t.Fatalf("ctl stop: %d %s %s", code, out, errOut)
	}
	state := filepath.Join(p.dir, "state")
	steps := waitSteps(t, state, "gave-up", 10*time.Second)
	time.Sleep(4 * time.Second) // the old helper started another 2 s after the stop
	if got := listeners(t, addr); len(got) != 0 {
		t.Fatalf("after ctl stop, pids %v listen (helper steps %s)", got, steps)
	}
	if steps2 := strings.Join(helperSteps(t, state), ","); steps2 != steps || strings.Count(steps, "spawned") != 1 {
		t.Fatalf("helper steps %s, then %s", steps, steps2)
	}
	rec, _ := filepath.Glob(filepath.Join(state, "lifetimes", "*-"+strconv.Itoa(h0.PID)+".jsonl"))
	if b, _ := os.ReadFile(rec[0]); withWatchdog != strings.Contains(string(b), `"by":"watchdog"`) {
		t.Errorf("watchdog %v, but the record says:\n%s", withWatchdog, b)
	}
	code, out, _ := runCLI(t, nil, append([]string{"ctl", "status"}, settings...)...)
	if code != 3 || !strings.Contains(out, "stopped") {
		t.Errorf("ctl status: %d\n%s", code, out)
	}
	killsDiagnosed(t, klog, state)
	_ = h
}

// The watchdog notices a death without a probe (they are 10 min apart),
// including after an exec restart, which keeps the pid file lock and so
// is no death.
func TestWatchdogSeesDeathWithoutProbe(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "exec"}})
	_, h0 := p.health(false)
	w := startWatchdog(t, bin, p, addr, "--interval", "10m")
	p.signal(syscall.SIGUSR2) // exec in place: not a death
	h1 := waitHealth(t, addr, 10*time.Second, func(h health) bool { return !h.StartedAt.Equal(h0.StartedAt) })
	if h1.PID != h0.PID {
		t.Fatalf("exec restart changed the pid")
	}
	time.Sleep(300 * time.Millisecond)
	wlog := func() string { b, _ := os.ReadFile(filepath.Join(p.dir, "log", "watchdog.log")); return string(b) }
	if strings.Contains(wlog(), "down") {
		t.Fatalf("the watchdog took an exec restart for a death:\n%s", wlog())
	}
	p.signal(syscall.SIGKILL)
	h2 := waitHealth(t, addr, 10*time.Second, func(h health) bool { return h.PID != h0.PID })
	// Again: the watchdog watches the server it started.
	syscall.Kill(h2.PID, syscall.SIGKILL)
	h3 := waitHealth(t, addr, 10*time.Second, func(h health) bool { return h.PID != h2.PID })
	if !strings.Contains(wlog(), "pid file lock was released") {
		t.Errorf("watchdog log:\n%s", wlog())
	}
	oneListener(t, addr, h3.PID)
	// Stopped on purpose, then started by someone else: the watchdog arms
	// on the new server as it writes its pid file, not at its next probe.
	settings := []string{"--addr", addr, "--state-dir", filepath.Join(p.dir, "state"), "--log-dir", filepath.Join(p.dir, "log"),
		"--run-dir", filepath.Join(p.dir, "run"), "--config", filepath.Join(p.dir, "webui.conf")}
	for _, c := range [][]string{{"ctl", "stop"}, {"ctl", "start"}} {
		if code, out, errOut := runCLI(t, nil, append(c, settings...)...); code != 0 {
			t.Fatalf("%v: %d %s %s", c, code, out, errOut)
		}
	}
	h4 := waitHealth(t, addr, 10*time.Second, func(h health) bool { return h.PID != h3.PID })
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(h4.PID, syscall.SIGKILL)
	h5 := waitHealth(t, addr, 10*time.Second, func(h health) bool { return h.PID != h4.PID })
	oneListener(t, addr, h5.PID)
	w.signal(syscall.SIGTERM)
	w.wait(10 * time.Second)
	stopPID(t, h5.PID)
}

// A helper that dies before its restart is done is taken over: a watchdog
// started afterwards finds the intent record, the old server gone and the
// starter lock free, and carries the restart out itself.
func TestWatchdogTakesOverFromDeadHelper(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "3s", "--restart-survive", "1s"}})
	_, h0 := p.health(false)
	postRestart(t, addr)
	if code, _ := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("the old server exited %d", code)
	}
	b, err := os.ReadFile(filepath.Join(p.dir, "run", "webui.restart"))
	if err != nil {
		t.Fatalf("no restart intent: %v", err)
	}
	var in struct {
		HelperPID int `json:"helper_pid"`
	}
	if err := json.Unmarshal(b, &in); err != nil || in.HelperPID == 0 {
		t.Fatalf("intent %s: %v", b, err)
	}
	syscall.Kill(in.HelperPID, syscall.SIGKILL)
	for syscall.Kill(in.HelperPID, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
	w := startWatchdog(t, bin, p, addr, "--interval", "10m")
	h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
	waitSteps(t, filepath.Join(p.dir, "state"), "survived", 10*time.Second)
	rec, _ := filepath.Glob(filepath.Join(p.dir, "state", "lifetimes", "*-"+strconv.Itoa(h0.PID)+".jsonl"))
	rb, _ := os.ReadFile(rec[0])
	if !strings.Contains(string(rb), `"by":"watchdog"`) || !strings.Contains(string(rb), `"step":"survived"`) {
		t.Errorf("the watchdog did not carry the restart:\n%s", rb)
	}
	ctlEventually(t, 5*time.Second, "the intent is removed after the restart", func() bool {
		_, err := os.Stat(filepath.Join(p.dir, "run", "webui.restart"))
		return os.IsNotExist(err)
	})
	oneListener(t, addr, h.PID)
	w.signal(syscall.SIGTERM)
	w.wait(10 * time.Second)
	stopPID(t, h.PID)
}

// exitTime is when pid's lifetime record says it exited.
func exitTime(t *testing.T, state string, pid int) time.Time {
	t.Helper()
	rec, _ := filepath.Glob(filepath.Join(state, "lifetimes", "*-"+strconv.Itoa(pid)+".jsonl"))
	if len(rec) == 0 {
		t.Fatalf("no record of pid %d", pid)
	}
	b, _ := os.ReadFile(rec[len(rec)-1])
	for _, line := range strings.Split(string(b), "\n") {
		var ev struct {
			Event string
			T     time.Time
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "exit" {
			return ev.T
		}
	}
	t.Fatalf("pid %d recorded no exit:\n%s", pid, b)
	return time.Time{}
}
