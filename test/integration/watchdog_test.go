package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	iproc "github.com/termux-webui/webui/internal/proc"
)

func TestWatchdogLeavesStoppedServerDown(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.mustRun(0, []string{"ctl", "start"})
	h := e.waitHealth(5*time.Second, nil)
	e.watchdog("--interval", "100ms", "--timeout", "300ms")
	time.Sleep(300 * time.Millisecond) // the watchdog has seen it healthy

	if out := e.mustRun(0, []string{"ctl", "stop"}); !strings.Contains(out, fmt.Sprintf("webui stopped (pid %d)", h.PID)) {
		t.Errorf("stop: %q", out)
	}
	if lt := e.lifetimeOf(h.PID); lt.Verdict != "clean_exit" || lt.Reason != "ctl stop" {
		t.Errorf("the stopped ctlLifetime: %s %q: %s", lt.Verdict, lt.Reason, lt.Summary)
	}
	time.Sleep(1500 * time.Millisecond) // 15 intervals
	if _, err := e.health(); err == nil || e.serverPID() != 0 {
		t.Fatalf("the watchdog started the stopped server again (pid %d)", e.serverPID())
	}
	if !strings.Contains(e.watchdogLog(), "stopped on purpose") || strings.Contains(e.watchdogLog(), "started server") {
		t.Errorf("watchdog log:\n%s", e.watchdogLog())
	}
	var s struct {
		State    string `json:"state"`
		Watchdog struct {
			Running    bool   `json:"running"`
			LastAction string `json:"last_action"`
		} `json:"watchdog"`
	}
	if err := json.Unmarshal([]byte(e.mustRun(3, []string{"ctl", "status"}, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	if s.State != "stopped" || !s.Watchdog.Running || !strings.Contains(s.Watchdog.LastAction, "leaving it down") {
		t.Errorf("status: %+v", s)
	}

	// ctl start lifts the stop: the watchdog looks after the server again.
	e.mustRun(0, []string{"ctl", "start"})
	h2 := e.waitHealth(time.Second, nil)
	ctlKill(t, h2.PID, syscall.SIGKILL)
	e.waitHealth(5*time.Second, func(h *health) bool { return h.PID != h2.PID })
}

func TestWatchdogRestoresKilledServer(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	const interval, failures = 200 * time.Millisecond, 2
	e.mustRun(0, []string{"ctl", "start"})
	e.waitHealth(5*time.Second, nil)
	e.watchdog("--interval", interval.String(), "--timeout", "300ms", "--failures", strconv.Itoa(failures),
		"--stable-after", "300ms", "--backoff-base", "100ms")
	// Detection takes up to failures+1 intervals, a start well under a
	// second; the rest is slack for a loaded test machine.
	bound := (failures+1)*interval + 2*time.Second
	var times []time.Duration
	for k := 0; k < 3; k++ {
		time.Sleep(3 * interval) // seen healthy, and stable
		old := e.waitHealth(time.Second, nil)
		ctlKill(t, old.PID, syscall.SIGKILL)
		t0 := time.Now()
		h := e.waitHealth(10*time.Second, func(h *health) bool { return h.PID != old.PID })
		d := time.Since(t0)
		times = append(times, d)
		t.Logf("kill -9 of pid %d: pid %d answers /health after %s", old.PID, h.PID, d.Round(time.Millisecond))
		if d > bound {
			t.Errorf("recovery took %s, more than %s", d, bound)
		}
		if lt := e.lifetimeOf(old.PID); lt.Verdict != "killed_untraced" {
			t.Errorf("killed ctlLifetime: %s", lt.Verdict)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("kill -9 recovery: median %s (interval %s, failures %d)", times[len(times)/2].Round(time.Millisecond), interval, failures)
	ctlEventually(t, 5*time.Second, "the watchdog logs 3 starts", func() bool { return strings.Count(e.watchdogLog(), "started server pid") == 3 })
}

func TestWatchdogHungServer(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.mustRun(0, []string{"ctl", "start"})
	old := e.waitHealth(5*time.Second, nil)
	e.watchdog("--interval", "200ms", "--timeout", "300ms", "--kill-after", "2s")
	time.Sleep(400 * time.Millisecond)

	ctlKill(t, old.PID, syscall.SIGSTOP) // alive, but answers nothing
	t0 := time.Now()
	h := e.waitHealth(15*time.Second, func(h *health) bool { return h.PID != old.PID })
	t.Logf("SIGSTOPped pid %d replaced by pid %d after %s", old.PID, h.PID, time.Since(t0).Round(time.Millisecond))
	if iproc.Alive(old.PID) {
		t.Errorf("the hung server pid %d still runs", old.PID)
	}

	// Its record has the stack dump the watchdog asked for, and says who
	// stopped it and why.
	out := e.mustRun(0, []string{"diagnose", "--json", "--id", strconv.Itoa(old.PID)})
	var lt ctlLifetime
	if err := json.Unmarshal([]byte(out), &lt); err != nil {
		t.Fatal(err)
	}
	dump := false
	for _, raw := range lt.Events {
		var ev map[string]any
		_ = json.Unmarshal(raw, &ev)
		if ev["event"] == "signal" && ev["name"] == "SIGUSR1" {
			stacks, _ := ev["stacks"].(string)
			dump = strings.Contains(stacks, "goroutine ")
		}
	}
	if !dump {
		t.Errorf("no SIGUSR1 stack dump in the hung ctlLifetime's record (signals %v)", lt.Signals)
	}
	if lt.Verdict != "clean_exit" || !strings.Contains(lt.Reason, "watchdog") {
		t.Errorf("hung ctlLifetime: %s %q: %s", lt.Verdict, lt.Reason, lt.Summary)
	}
	if log := e.watchdogLog(); !strings.Contains(log, "SIGUSR1 for a stack dump") || !strings.Contains(log, "stack dump recorded") {
		t.Errorf("watchdog log:\n%s", log)
	}
}

func TestWatchdogIgnoresSlowRequests(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.mustRun(0, []string{"ctl", "start"})
	before := e.waitHealth(5*time.Second, nil)
	e.watchdog("--interval", "100ms", "--timeout", "300ms", "--failures", "2")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := ownerClient(0).Get("http://" + e.addr + "/_test/slow?d=2s")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.HasSuffix(string(b), "done\n") {
				t.Errorf("slow request cut short: %q", ctlLastLines(string(b), 2))
			}
		}()
	}
	wg.Wait()
	after := e.waitHealth(time.Second, nil)
	if after.PID != before.PID || !after.StartedAt.Equal(before.StartedAt) {
		t.Errorf("the server was replaced during slow requests: %d -> %d", before.PID, after.PID)
	}
	if log := e.watchdogLog(); strings.Contains(log, "failed") || strings.Contains(log, "down") || strings.Contains(log, "started server") {
		t.Errorf("the watchdog acted on slow requests:\n%s", log)
	}
}

func TestWatchdogCrashLoopBacksOff(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	e.mustRun(0, []string{"ctl", "start"})
	old := e.waitHealth(5*time.Second, nil)
	const maxDelay = 2 * time.Second
	e.watchdog("--interval", "100ms", "--timeout", "300ms", "--backoff-base", "100ms", "--backoff-max", maxDelay.String())
	time.Sleep(300 * time.Millisecond)

	// Someone breaks the config file, and the server dies: every start
	// now fails with a config error (exit 2).
	if err := os.WriteFile(e.path("webui.conf"), []byte("restart_mode = sideways\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctlKill(t, old.PID, syscall.SIGKILL)
	t0 := time.Now()
	const run = 6 * time.Second
	time.Sleep(run)
	attempts := 0
	for _, lt := range e.lifetimes() {
		if lt.StartedAt.After(t0) {
			attempts++
			if lt.Verdict != "died_in_startup" {
				t.Errorf("attempt pid %d: %s: %s", lt.PID, lt.Verdict, lt.Summary)
			}
		}
	}
	// The first start comes at once; after a config error the next ones
	// wait the longest delay.
	limit := 1 + int(run/maxDelay)
	t.Logf("%d start attempts in %s with a broken config (limit %d)", attempts, run, limit)
	if attempts < 2 || attempts > limit {
		t.Errorf("%d start attempts in %s, want 2..%d", attempts, run, limit)
	}
	if log := e.watchdogLog(); !strings.Contains(log, "exit 2") || !strings.Contains(log, "retrying slowly") {
		t.Errorf("watchdog log:\n%s", log)
	}

	// Fixing the config brings it back without waiting out the delay.
	if err := os.WriteFile(e.path("webui.conf"), []byte("# fixed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	e.waitHealth(5*time.Second, nil)
	t.Logf("healthy %s after the config was fixed", time.Since(t1).Round(time.Millisecond))
	if d := time.Since(t1); d > maxDelay {
		t.Errorf("came back %s after the fix: it waited out the backoff", d)
	}
}

// killwindow is the fixture binary, built once.
var ctlKillwindowBin = struct {
	once sync.Once
	path string
	err  error
}{}

func ctlKillwindow(t *testing.T) string {
	t.Helper()
	ctlKillwindowBin.once.Do(func() {
		ctlKillwindowBin.path = filepath.Join(buildDir, "ctl-killwindow")
		cmd := exec.Command("go", "build", "-o", ctlKillwindowBin.path, "./test/fixtures/killwindow")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			ctlKillwindowBin.err = fmt.Errorf("build killwindow: %v\n%s", err, out)
		}
	})
	if ctlKillwindowBin.err != nil {
		t.Fatal(ctlKillwindowBin.err)
	}
	return ctlKillwindowBin.path
}

// TestWatchdogAndroidKillWindow: on Android (detected from a fake /proc)
// the watchdog waits restart_delay after a kill -9 before it starts the
// server, so the kill-window fixture lets the new server live; ctl start
// after ctl stop waits the same way.
func TestWatchdogAndroidKillWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The fixture watches a binary by path: this test's own copy.
	bin := filepath.Join(dir, "webui")
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	fakeProc := filepath.Join(dir, "proc")
	if err := os.MkdirAll(filepath.Join(fakeProc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	cgroup := "3:cpuset:/top-app\n0::/apps/uid_10190/pid_11887\n"
	if err := os.WriteFile(filepath.Join(fakeProc, "self", "cgroup"), []byte(cgroup), 0o644); err != nil {
		t.Fatal(err)
	}
	kwLog := filepath.Join(dir, "ctlKillwindowBin.log")
	kw := exec.Command(ctlKillwindow(t), "-exe", bin, "-window", "2s", "-log", kwLog)
	stdout, err := kw.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := kw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kw.Process.Kill(); _ = kw.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("killwindow: %q", line)
	}
	kwSays := func() string { b, _ := os.ReadFile(kwLog); return string(b) }

	e := ctlNewEnv(t, bin, "WEBUI_TEST_PROC_ROOT="+fakeProc, "WEBUI_RESTART_DELAY=3s")
	e.mustRun(0, []string{"ctl", "start"})
	old := e.waitHealth(5*time.Second, nil)
	if old.Platform["android"] != true {
		t.Fatalf("Android not detected: %v", old.Platform)
	}
	e.watchdog("--interval", "200ms", "--timeout", "300ms")
	// The strict kill window also takes a watchdog exec'd less than 2 s
	// before the server dies: a watchdog runs long before a death.
	time.Sleep(3 * time.Second)

	ctlKill(t, old.PID, syscall.SIGKILL)
	t0 := time.Now()
	h := e.waitHealth(15*time.Second, func(h *health) bool { return h.PID != old.PID })
	d := time.Since(t0)
	t.Logf("Android: kill -9 of pid %d, pid %d answers after %s (restart_delay 3s, window 2s)", old.PID, h.PID, d.Round(time.Millisecond))
	if d < 3*time.Second {
		t.Errorf("restarted after %s, inside restart_delay", d)
	}
	time.Sleep(500 * time.Millisecond)
	if h2, err := e.health(); err != nil || h2.PID != h.PID {
		t.Fatalf("the restarted server did not survive: %v\nkillwindow:\n%s", err, kwSays())
	}
	if log := kwSays(); !strings.Contains(log, fmt.Sprintf("allowed pid %d", h.PID)) || strings.Contains(log, "killed pid") {
		t.Errorf("killwindow log:\n%s", log)
	}
	if !strings.Contains(e.watchdogLog(), "Android kills a process started within restart_delay") {
		t.Errorf("watchdog log:\n%s", e.watchdogLog())
	}

	// ctl stop, then ctl start at once: ctl start waits out the window too.
	// The CLI runs from the shared binary, out of the fixture's sight: the
	// strict window would take a CLI exec'd at the exit along with it.
	e.bin = binary
	e.mustRun(0, []string{"ctl", "stop"})
	code, out, errOut := e.run([]string{"ctl", "start"})
	if code != 0 || !strings.Contains(errOut, "waiting") {
		t.Errorf("ctl start right after stop: exit %d\n%s%s", code, out, errOut)
	}
	h3 := e.waitHealth(5*time.Second, nil)
	time.Sleep(300 * time.Millisecond)
	if h4, err := e.health(); err != nil || h4.PID != h3.PID || strings.Contains(kwSays(), "killed pid") {
		t.Errorf("ctl start inside the window: %v\nkillwindow:\n%s", err, kwSays())
	}
}
