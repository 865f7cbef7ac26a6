package integration

// Tests of `webui ctl`, `webui watchdog`, `webui boot` and the launcher
// scripts: the server comes back by itself, and stays down when told to.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	iproc "github.com/termux-webui/webui/internal/proc"
)

// ctlEnv is one test's webui installation: its own directories and port,
// and the binary it runs.
type ctlEnv struct {
	t    *testing.T
	dir  string
	bin  string
	addr string
	env  []string // added to baseEnv
}

func ctlNewEnv(t *testing.T, bin string, env ...string) *ctlEnv {
	t.Helper()
	if bin == "" {
		bin = binary
	}
	dir := t.TempDir()
	e := &ctlEnv{t: t, dir: dir, bin: bin, addr: "127.0.0.1:" + strconv.Itoa(ctlPort(t)), env: env}
	registerServer(e.addr, e.path("state"))
	if err := os.WriteFile(e.path("webui.conf"), []byte("# test config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"log/watchdog.log", "log/console.log"} {
				if b, err := os.ReadFile(e.path(f)); err == nil {
					t.Logf("%s:\n%s", f, ctlLastLines(string(b), 40))
				}
			}
		}
		ctlKillAll(dir)
	})
	return e
}

func (e *ctlEnv) path(rel string) string { return filepath.Join(e.dir, rel) }

// settings are the flags that point webui at this installation.
func (e *ctlEnv) settings() []string {
	return []string{"--addr", e.addr, "--state-dir", e.path("state"), "--log-dir", e.path("log"),
		"--run-dir", e.path("run"), "--config", e.path("webui.conf")}
}

func (e *ctlEnv) environ() []string { return append(baseEnv(e.dir), e.env...) }

// run runs `webui CMD... <settings> EXTRA...` to completion: cmd is the
// command words (such as "ctl", "start"), extra more flags.
func (e *ctlEnv) run(cmd []string, extra ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	args := append(append(append([]string{}, cmd...), e.settings()...), extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, e.bin, args...)
	c.Env = e.environ()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("webui %s: %v", strings.Join(cmd, " "), err)
	}
	return code, out.String(), errb.String()
}

// mustRun is run that expects exit code want.
func (e *ctlEnv) mustRun(want int, cmd []string, extra ...string) string {
	e.t.Helper()
	code, out, errOut := e.run(cmd, extra...)
	if code != want {
		e.t.Fatalf("webui %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(cmd, " "), code, want, out, errOut)
	}
	return out
}

var ctlClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// health asks /health once.
func (e *ctlEnv) health() (*health, error) {
	resp, err := ctlClient.Get("http://" + e.addr + "/health")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, err
	}
	return &h, nil
}

// waitHealth waits until /health answers and ok(h) holds.
func (e *ctlEnv) waitHealth(within time.Duration, ok func(*health) bool) *health {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if h, err := e.health(); err == nil && (ok == nil || ok(h)) {
			return h
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("/health on %s did not answer as wanted within %s", e.addr, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serverPID is the live holder of the server's pid file (0 if none).
func (e *ctlEnv) serverPID() int { return ctlHolder(e.path("run/webui.pid")) }

// watchdogPID is the live holder of the watchdog's pid file (0 if none).
func (e *ctlEnv) watchdogPID() int { return ctlHolder(e.path("run/webui-watchdog.pid")) }

func ctlHolder(path string) int {
	pid, held, err := iproc.Read(path)
	if err != nil || !held {
		return 0
	}
	return pid
}

// watchdog starts `webui watchdog` with the settings and extra flags; it
// returns once the watchdog holds its pid file.
func (e *ctlEnv) watchdog(extra ...string) *exec.Cmd {
	e.t.Helper()
	args := append(append([]string{"watchdog"}, e.settings()...), extra...)
	c := exec.Command(e.bin, args...)
	c.Env = e.environ()
	out := &syncBuffer{}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	e.t.Cleanup(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
		if e.t.Failed() {
			e.t.Logf("watchdog output:\n%s", ctlLastLines(out.String(), 60))
		}
	})
	ctlEventually(e.t, 10*time.Second, "the watchdog holds its pid file", func() bool { return e.watchdogPID() == c.Process.Pid })
	return c
}

func (e *ctlEnv) watchdogLog() string {
	b, _ := os.ReadFile(e.path("log/watchdog.log"))
	return string(b)
}

// ctlLifetime is one entry of `webui diagnose --json`.
type ctlLifetime struct {
	ID        string            `json:"id"`
	PID       int               `json:"pid"`
	StartedAt time.Time         `json:"started_at"`
	Verdict   string            `json:"verdict"`
	Reason    string            `json:"reason"`
	Summary   string            `json:"summary"`
	Signals   []string          `json:"signals"`
	Events    []json.RawMessage `json:"events"`
}

func (e *ctlEnv) lifetimes() []ctlLifetime {
	e.t.Helper()
	// Only the state dir: the config file may be broken on purpose.
	c := exec.Command(e.bin, "diagnose", "--json", "-n", "0", "--state-dir", e.path("state"), "--config", os.DevNull)
	c.Env = e.environ()
	b, err := c.Output()
	if err != nil {
		e.t.Fatalf("diagnose --json: %v", err)
	}
	out := string(b)
	var lts []ctlLifetime
	if err := json.Unmarshal([]byte(out), &lts); err != nil {
		e.t.Fatalf("diagnose --json: %v\n%s", err, out)
	}
	return lts
}

func (e *ctlEnv) lifetimeOf(pid int) *ctlLifetime {
	e.t.Helper()
	for _, lt := range e.lifetimes() {
		if lt.PID == pid {
			return &lt
		}
	}
	e.t.Fatalf("no ctlLifetime of pid %d", pid)
	return nil
}

// ctlPorts hands out loopback ports below the ephemeral range, so that no
// client socket of a parallel test can be sitting on one.
var ctlPorts = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

func ctlPort(t *testing.T) int {
	ctlPorts.Lock()
	defer ctlPorts.Unlock()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if ctlPorts.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		ctlPorts.used[p] = true
		return p
	}
	t.Fatal("no free port")
	return 0
}

// ctlKillAll SIGKILLs every process whose command line mentions dir: the
// daemons, watchdogs and loops a test started outlive the commands that
// started them.
func ctlKillAll(dir string) {
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(dir)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func ctlEventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctlLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func ctlKill(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %d %v: %v", pid, sig, err)
	}
}

// ctlStat reads the session id (field 6) and ppid (field 4) of pid.
func ctlStat(pid int) (ppid, session int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	ppid, _ = strconv.Atoi(f[1])
	session, _ = strconv.Atoi(f[3])
	return ppid, session
}

var ctlPIDRe = regexp.MustCompile(`pid (\d+)`)

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
	// Each prints the sign-in link, with the token of the state dir.
	link := "sign in: http://" + e.addr + "/login?token=" + ownerToken(t, e.path("state"))
	for i, r := range res {
		if !strings.Contains(r.out, link+"\n") {
			t.Errorf("start %d prints no sign-in link: %q", i, r.out)
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

// TestLaunchersSurviveSIGHUP starts webui with scripts/start-webui.sh and
// scripts/watchdog-loop.sh from a shell in its own session, then hangs up
// on that session: the server, the watchdog and its loop live on.
func TestLaunchersSurviveSIGHUP(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "", "WEBUI_BIN="+binary)
	flags := strings.Join(e.settings(), " ")
	script := fmt.Sprintf(`sh %s/scripts/start-webui.sh %s && sh %s/scripts/watchdog-loop.sh %s --interval 200ms --timeout 300ms && echo launched; exec sleep 60`,
		repoRoot, flags, repoRoot, flags)
	sh := exec.Command("setsid", "sh", "-c", script)
	sh.Env = e.environ()
	out := &syncBuffer{}
	sh.Stdout, sh.Stderr = out, out
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	shDone := make(chan struct{})
	go func() { _ = sh.Wait(); close(shDone) }()
	t.Cleanup(func() { _ = sh.Process.Kill(); <-shDone })
	ctlEventually(t, 20*time.Second, "the launchers finish", func() bool { return strings.Contains(out.String(), "launched") })
	t.Logf("launchers said:\n%s", out.String())
	server := e.waitHealth(5*time.Second, nil)
	ctlEventually(t, 5*time.Second, "the watchdog runs", func() bool { return e.watchdogPID() != 0 })
	wd := e.watchdogPID()
	loop, _ := ctlStat(wd)
	_, shSession := ctlStat(sh.Process.Pid)
	for name, pid := range map[string]int{"server": server.PID, "watchdog": wd, "loop": loop} {
		if _, s := ctlStat(pid); s == shSession || s == 0 {
			t.Errorf("%s (pid %d) is in the launching session %d", name, pid, s)
		}
	}

	// Hang up: the launching shell's process group, and the daemons too.
	ctlKill(t, -sh.Process.Pid, syscall.SIGHUP)
	select {
	case <-shDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the launching shell ignored SIGHUP")
	}
	ctlKill(t, server.PID, syscall.SIGHUP)
	ctlKill(t, wd, syscall.SIGHUP)
	time.Sleep(time.Second)
	if h, err := e.health(); err != nil || h.PID != server.PID {
		t.Fatalf("the server did not survive SIGHUP: %v", err)
	}
	if e.watchdogPID() != wd || !iproc.Alive(loop) {
		t.Fatalf("watchdog %d (now %d) or loop %d did not survive SIGHUP", wd, e.watchdogPID(), loop)
	}
	if lt := e.lifetimeOf(server.PID); !strings.Contains(strings.Join(lt.Signals, " "), "SIGHUP") {
		t.Errorf("no SIGHUP in the server's record: %v", lt.Signals)
	}

	// The loop brings a dead watchdog back...
	ctlKill(t, wd, syscall.SIGKILL)
	ctlEventually(t, 10*time.Second, "the loop restarts the watchdog", func() bool { p := e.watchdogPID(); return p != 0 && p != wd })
	if !strings.Contains(e.watchdogLog(), "started again by webui-watchdog-loop") {
		t.Errorf("watchdog log:\n%s", e.watchdogLog())
	}
	// ...and ends with a watchdog stopped on purpose.
	if out := e.mustRun(0, []string{"ctl", "stop", "--watchdog"}); !strings.Contains(out, "watchdog stopped") {
		t.Errorf("stop --watchdog: %q", out)
	}
	ctlEventually(t, 5*time.Second, "the loop ends", func() bool { return !iproc.Alive(loop) })
	if _, err := e.health(); err == nil {
		t.Error("the server still answers after ctl stop")
	}
}

func TestBootEnableDisable(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	home := e.path("home")
	env := []string{"HOME=" + home}
	boot := func(want int, sub string) (string, string) {
		t.Helper()
		c := exec.Command(binary, "boot", sub)
		c.Env = append(e.environ(), env...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != want {
			t.Fatalf("boot %s: exit %d, want %d\n%s%s", sub, code, want, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	script := filepath.Join(home, ".termux", "boot", "webui")
	if out, errOut := boot(3, "status"); !strings.Contains(out, "disabled") || errOut != "" {
		t.Errorf("status: %q %q", out, errOut)
	}
	out, errOut := boot(0, "enable")
	if !strings.Contains(out, "enabled: "+script) || !strings.Contains(errOut, "not Termux") {
		t.Errorf("enable: %q %q", out, errOut)
	}
	got, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(repoRoot, "packaging/termux/boot/webui"))
	if !bytes.Equal(got, want) {
		t.Errorf("boot script differs from packaging/termux/boot/webui:\n%s", got)
	}
	if st, _ := os.Stat(script); st.Mode().Perm() != 0o755 {
		t.Errorf("boot script mode %v", st.Mode())
	}
	if out, _ := boot(0, "status"); !strings.HasPrefix(out, "enabled: "+script+"\n") {
		t.Errorf("status: %q", out)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho mine\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, _ := boot(0, "status"); !strings.Contains(out, "differs") {
		t.Errorf("status of an edited script: %q", out)
	}
	if out, _ := boot(0, "disable"); !strings.Contains(out, "removed") {
		t.Errorf("disable: %q", out)
	}
	if _, err := os.Stat(script); !os.IsNotExist(err) {
		t.Errorf("script still there: %v", err)
	}
	boot(3, "status")
	if out, _ := boot(0, "disable"); !strings.Contains(out, "already disabled") {
		t.Errorf("disable again: %q", out)
	}
	boot(2, "sideways")
}

// TestCtlScriptsShellcheck: the launchers and the Termux service and boot
// scripts are POSIX sh that shellcheck finds nothing in.
func TestCtlScriptsShellcheck(t *testing.T) {
	t.Parallel()
	scripts := []string{"scripts/start-webui.sh", "scripts/watchdog-loop.sh", "packaging/termux/service/run",
		"packaging/termux/service/finish", "packaging/termux/service/log/run", "packaging/termux/boot/webui"}
	for _, s := range scripts {
		p := filepath.Join(repoRoot, s)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
		b, _ := os.ReadFile(p)
		// scripts/ run from a clone anywhere (mkdeb gives the Termux
		// packages Termux's sh); packaging/termux/ runs only on Termux.
		want := "#!/data/data/com.termux/files/usr/bin/sh\n"
		if strings.HasPrefix(s, "scripts/") {
			want = "#!/bin/sh\n"
		}
		if !bytes.HasPrefix(b, []byte(want)) {
			t.Errorf("%s: %q, want %q", s, strings.SplitN(string(b), "\n", 2)[0], strings.TrimSpace(want))
		}
		if dash, err := exec.LookPath("dash"); err == nil {
			if out, err := exec.Command(dash, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("dash -n %s: %v\n%s", s, err, out)
			}
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is missing (scripts/test-deps.sh installs it)")
		}
		t.Skip("shellcheck is missing: skipped")
	}
	cmd := exec.Command(sc, append([]string{"--shell=sh", "--severity=style"}, scripts...)...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
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
