package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

var (
	fixtureOnce sync.Once
	fixtureBin  string
	fixtureErr  error
)

// killWindowFixture builds test/fixtures/killwindow once.
func killWindowFixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureBin = filepath.Join(buildDir, "killwindow")
		cmd := exec.Command("go", "build", "-o", fixtureBin, "./test/fixtures/killwindow")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fixtureErr = fmt.Errorf("build killwindow: %v\n%s", err, out)
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureBin
}

// ownBinary copies the webui binary to a path of this test's own, so the
// kill-window fixture (which matches by path) sees only this test's servers.
// A hard link, when it can be: a copy's write fd, inherited by a parallel
// test's fork until its exec, makes exec of the copy fail with ETXTBSY.
func ownBinary(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "webui")
	if os.Link(src, dst) == nil {
		return dst
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// startKillWindow runs the fixture against bin (and more paths of it)
// with window w and returns its log path.
func startKillWindow(t *testing.T, bin string, w time.Duration, more ...string) string {
	t.Helper()
	log := filepath.Join(t.TempDir(), "killwindow.log")
	args := []string{"-exe", bin, "-window", w.String(), "-log", log}
	for _, m := range more {
		args = append(args, "-exe", m)
	}
	cmd := exec.Command(killWindowFixture(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("killwindow: %q", line)
	}
	return log
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealth polls /health at addr until ok returns true.
func waitHealth(t *testing.T, addr string, within time.Duration, ok func(health) bool) health {
	t.Helper()
	h, err := harness.WaitHealth(&http.Client{Timeout: time.Second}, addr, within, 50*time.Millisecond, func(h *health) bool { return ok(*h) })
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

type lifetime struct {
	ID       string   `json:"id"`
	PID      int      `json:"pid"`
	Verdict  string   `json:"verdict"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
}

func diagnose(t *testing.T, stateDir string) []lifetime {
	t.Helper()
	code, out, stderr := runCLI(t, nil, "diagnose", "--json", "-n", "0", "--state-dir", stateDir)
	if code != 0 {
		t.Fatalf("diagnose: %d %s", code, stderr)
	}
	var lts []lifetime
	if err := json.Unmarshal([]byte(out), &lts); err != nil {
		t.Fatalf("diagnose json: %v\n%s", err, out)
	}
	return lts
}

func postRestart(t *testing.T, addr string) {
	t.Helper()
	if err := harness.CSRFPost(ownerClient(5*time.Second), addr, "", "/api/restart"); err != nil {
		t.Fatal(err)
	}
}

// helperSteps returns the restart helper's steps recorded in the state dir.
func helperSteps(t *testing.T, stateDir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(stateDir, "lifetimes", "*.jsonl"))
	var steps []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["event"] == "helper" {
				steps = append(steps, ev["step"].(string))
			}
		}
	}
	return steps
}

// The delayed path alone against the strict kill window (W = 3 s): the
// helper outlives the old server's exit, and a start inside the window is
// killed, retried and diagnosed.
func TestDelayedRestartOutlastsKillWindow(t *testing.T) {
	t.Parallel()
	const window = 3 * time.Second
	t.Run("delay longer than the window", func(t *testing.T) {
		t.Parallel()
		bin := ownBinary(t, binary)
		klog := startKillWindow(t, bin, window)
		addr := freeAddr(t)
		p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "5s", "--restart-survive", "1s"}})
		_, h0 := p.health(false)
		if h0.Restart["strategy"] != "delayed" {
			t.Fatalf("strategy %v", h0.Restart)
		}
		begin := time.Now()
		postRestart(t, addr)
		h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
		t.Logf("delayed restart: request to healthy in %s (delay 5s, window %s)", time.Since(begin).Round(time.Millisecond), window)
		// Survives past the survival check; the fixture allowed it.
		time.Sleep(1500 * time.Millisecond)
		waitHealth(t, addr, 5*time.Second, func(x health) bool { return x.PID == h.PID })
		kl, _ := os.ReadFile(klog)
		if strings.Contains(string(kl), "killed") || !strings.Contains(string(kl), fmt.Sprintf("allowed pid %d", h.PID)) {
			t.Fatalf("fixture log:\n%s", kl)
		}
		steps := strings.Join(helperSteps(t, filepath.Join(p.dir, "state")), ",")
		if steps != "started,old-gone,delay-done,spawned,survived" {
			t.Fatalf("helper steps %s", steps)
		}
		oneListener(t, addr, h.PID)
		stopPID(t, h.PID)
	})
	t.Run("no delay: killed, retried, survives", func(t *testing.T) {
		t.Parallel()
		bin := ownBinary(t, binary)
		klog := startKillWindow(t, bin, window)
		addr := freeAddr(t)
		p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "delayed", "--restart-delay", "0", "--restart-survive", "1s"}})
		_, h0 := p.health(false)
		begin := time.Now()
		p.signal(syscall.SIGUSR2)
		h := waitHealth(t, addr, 30*time.Second, func(h health) bool { return h.PID != h0.PID })
		t.Logf("delayed restart with delay 0: request to healthy in %s", time.Since(begin).Round(time.Millisecond))
		state := filepath.Join(p.dir, "state")
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(strings.Join(helperSteps(t, state), ","), "survived") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		steps := strings.Join(helperSteps(t, state), ",")
		if !strings.Contains(steps, "spawned,killed,retrying") || !strings.HasSuffix(steps, "spawned,survived") {
			kl, _ := os.ReadFile(klog)
			t.Fatalf("helper steps %s\nfixture:\n%s", steps, kl)
		}
		var killed int
		for _, lt := range diagnose(t, state) {
			if lt.Verdict == "killed_in_restart_window" {
				killed++
				if lt.PID == h.PID {
					t.Errorf("the survivor is reported killed: %+v", lt)
				}
			}
		}
		if killed == 0 {
			t.Fatalf("diagnose reports no killed_in_restart_window: %+v", diagnose(t, state))
		}
		killsDiagnosed(t, klog, state)
		oneListener(t, addr, h.PID)
		stopPID(t, h.PID)
	})
}

// stopPID ends a server that is not the test's child (started by a helper).
func stopPID(t *testing.T, pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// Android detection (a fake /proc with a real Android cgroup file) makes
// auto pick the delayed strategy, and Linux picks exec.
func TestStrategySelection(t *testing.T) {
	t.Parallel()
	procRoot := t.TempDir()
	os.MkdirAll(filepath.Join(procRoot, "self"), 0o755)
	os.WriteFile(filepath.Join(procRoot, "self", "cgroup"), []byte("4:memory:/\n3:cpuset:/top-app\n0::/apps/uid_10190/pid_11887\n"), 0o644)
	os.WriteFile(filepath.Join(procRoot, "self", "status"), []byte("Name:\twebui\nTracerPid:\t0\n"), 0o644)
	p := start(t, opts{env: []string{"WEBUI_TEST_PROC_ROOT=" + procRoot, "WEBUI_TEST_FS_ROOT=" + t.TempDir()}})
	_, h := p.health(false)
	if h.Restart["strategy"] != "delayed" || !strings.Contains(h.Restart["why"], "Android") || h.Platform["android"] != true {
		t.Fatalf("android: %+v %+v", h.Restart, h.Platform)
	}
	q := start(t, opts{env: []string{"WEBUI_TEST_PROC_ROOT=" + t.TempDir(), "WEBUI_TEST_FS_ROOT=" + t.TempDir()}})
	_, h = q.health(false)
	if h.Restart["strategy"] != "exec" {
		t.Fatalf("linux: %+v", h.Restart)
	}
	code, out, _ := runCLI(t, []string{"WEBUI_TEST_PROC_ROOT=" + procRoot, "WEBUI_TEST_FS_ROOT=" + t.TempDir()}, "platform", "--json")
	if code != 0 || !strings.Contains(out, `"strategy": "delayed"`) || !strings.Contains(out, "0::/apps/uid_10190/pid_11887") {
		t.Fatalf("platform --json: %d\n%s", code, out)
	}
}

// The exec path under continuous load: 20 restarts, no refused or failed
// request, the same pid, a fresh uptime, and the new version once the
// binary on disk is replaced.
func TestExecRestartUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v2 := filepath.Join(dir, "webui-v2")
	if out, err := build(v2, "webuitest", "-X github.com/termux-webui/webui/internal/version.Version=2.0.0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	bin := filepath.Join(dir, "webui")
	if out, err := build(bin, "webuitest", "-X github.com/termux-webui/webui/internal/version.Version=1.0.0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, args: []string{"--addr", addr, "--restart-mode", "exec", "--access-log", "off"}})
	_, h0 := p.health(false)

	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var maxLatency atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			path := "/health"
			if w%2 == 1 {
				path = "/assets/app.css"
			}
			for ctx.Err() == nil {
				begin := time.Now()
				var reused, wasIdle bool
				req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
				req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused, wasIdle = i.Reused, i.WasIdle }}))
				resp, err := c.Do(req)
				if err != nil {
					err = fmt.Errorf("%w (reused conn %v, was idle %v, at %s, took %s)", err, reused, wasIdle, begin.UTC().Format("15:04:05.000000"), time.Since(begin))
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil && ctx.Err() != nil {
					break // the load was stopped mid-request: not a failure
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
				d := time.Since(begin)
				if int64(d) > maxLatency.Load() {
					maxLatency.Store(int64(d))
				}
				if d > 50*time.Millisecond {
					mu.Lock()
					latencies = append(latencies, d)
					mu.Unlock()
				}
			}
		}(w)
	}
	prev := h0
	for i := 1; i <= 20; i++ {
		if i == 11 {
			// An update: the binary on disk is replaced by rename.
			if err := os.Rename(v2, bin); err != nil {
				t.Fatal(err)
			}
		}
		p.signal(syscall.SIGUSR2)
		h := waitHealth(t, addr, 10*time.Second, func(h health) bool { return !h.StartedAt.Equal(prev.StartedAt) })
		if h.PID != h0.PID {
			t.Fatalf("restart %d: pid %d, want %d", i, h.PID, h0.PID)
		}
		if h.UptimeS > 5 {
			t.Errorf("restart %d: uptime %.1fs did not reset", i, h.UptimeS)
		}
		want := "1.0.0"
		if i >= 11 {
			want = "2.0.0"
		}
		if h.Version != want {
			t.Errorf("restart %d: version %s, want %s", i, h.Version, want)
		}
		prev = h
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	t.Logf("exec restarts: 20, requests ok %d, failed %d, max latency %s, over 50ms: %v", ok.Load(), failed.Load(), time.Duration(maxLatency.Load()).Round(time.Millisecond), latencies)
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed during exec restarts; first: %v", failed.Load(), firstErr.Load())
	}
	if ok.Load() < 100 {
		t.Fatalf("only %d requests succeeded: the load did not run", ok.Load())
	}
	// Each replaced image left a clean "restart" exit; the newest runs.
	lts := diagnose(t, filepath.Join(p.dir, "state"))
	if len(lts) < 21 || lts[0].Verdict != "running" || lts[1].Verdict != "clean_exit" || !strings.Contains(lts[1].Summary, "exec in place") {
		t.Fatalf("diagnose after exec restarts: %d lifetimes, newest %+v %+v", len(lts), lts[0], lts[1])
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// A restart into a missing binary is refused and the server keeps serving.
func TestRestartRefusedWithoutBinary(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	p := start(t, opts{bin: bin, args: []string{"--restart-mode", "exec"}})
	_, h0 := p.health(false)
	os.Remove(bin)
	p.signal(syscall.SIGUSR2)
	if !p.logHas("restart failed, still serving") {
		t.Fatalf("log does not say the restart failed")
	}
	p.mustHealthy()
	if _, h := p.health(false); !h.StartedAt.Equal(h0.StartedAt) {
		t.Fatalf("it restarted without a binary?")
	}
}

// The supervisor strategy exits 75 for systemd/runit; on Android it leaves
// the earliest start time for the run script.
func TestSupervisorRestart(t *testing.T) {
	t.Parallel()
	procRoot := t.TempDir()
	os.MkdirAll(filepath.Join(procRoot, "self"), 0o755)
	os.WriteFile(filepath.Join(procRoot, "self", "cgroup"), []byte("3:cpuset:/top-app\n0::/uid_10179/pid_11869\n"), 0o644)
	p := start(t, opts{args: []string{"--restart-mode", "supervisor", "--restart-delay", "7s"},
		env: []string{"WEBUI_TEST_PROC_ROOT=" + procRoot, "WEBUI_TEST_FS_ROOT=" + t.TempDir()}})
	before := time.Now()
	postRestart(t, p.addr)
	if code, _ := p.wait(10 * time.Second); code != 75 {
		t.Fatalf("exit %d, want 75", code)
	}
	b, err := os.ReadFile(filepath.Join(p.dir, "run", "webui.notbefore"))
	if err != nil {
		t.Fatal(err)
	}
	var nb int64
	fmt.Sscan(string(b), &nb)
	if got := time.Unix(nb, 0).Sub(before); got < 6*time.Second || got > 9*time.Second {
		t.Fatalf("not-before is %s after the request, want ~7s", got)
	}
	lts := diagnose(t, filepath.Join(p.dir, "state"))
	if lts[0].Verdict != "clean_exit" || !strings.Contains(lts[0].Summary, "supervisor") {
		t.Fatalf("%+v", lts[0])
	}
}
