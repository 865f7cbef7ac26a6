package main

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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// machine describes where and when the run happened.
type machine struct {
	date, cpu, kernel, goVersion, commit, took string
	cores                                      int
	loadStart, loadEnd, loadMax                [3]float64
	mu                                         sync.Mutex
}

func readMachine(root string) *machine {
	m := &machine{cores: runtime.NumCPU(), cpu: "unknown CPU", date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.kernel = "Linux " + cstr(u.Release[:])
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.goVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	m.commit = "unknown commit"
	if out, err := gitOut(root, "describe", "--tags", "--always", "--dirty"); err == nil {
		m.commit = out
		if out, err := gitOut(root, "log", "-1", "--format=%h %s"); err == nil {
			m.commit += " (" + out + ")"
		}
	}
	m.loadStart = loadavg()
	m.loadMax = m.loadStart
	return m
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func gitOut(dir string, args ...string) (string, error) {
	c := exec.Command("git", args...)
	c.Dir = dir
	out, err := c.Output()
	return strings.TrimSpace(string(out)), err
}

func loadavg() [3]float64 {
	var l [3]float64
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// watchLoad samples the load average until ctx ends.
func (m *machine) watchLoad(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l := loadavg()
			m.mu.Lock()
			for i := range l {
				m.loadMax[i] = max(m.loadMax[i], l[i])
			}
			m.mu.Unlock()
		}
	}
}

func (m *machine) loadNote() string {
	f := func(l [3]float64) string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }
	return fmt.Sprintf("at start %s, at end %s, highest 1-min sample %.2f (1, 5, 15 min; %d cores)", f(m.loadStart), f(m.loadEnd), m.loadMax[0], m.cores)
}

// busy: was other work running? The run itself keeps about one core busy
// at times, so more than that in the 5-minute average at the start, or a
// start above half a core, says others were at work.
func (m *machine) busy() bool { return m.loadStart[0] > 0.5 || m.loadStart[1] > 0.5 }

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/termux-webui/webui\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run webui-bench inside the webui module (make bench)")
		}
		dir = parent
	}
}

// bins are the programs the benchmarks run.
type bins struct {
	webui     string // release build, as `make build`
	webuitest string // -tags webuitest: adds /_test/ routes
	floor     string // bench/floor, release flags
	killwin   string // test/fixtures/killwindow
	python    string
	pyhealth  string
	wrk       string
	nginx     string
	runsv     string
	version   string
}

// releaseLDFlags are the Makefile's.
func releaseLDFlags(version string) string {
	return "-s -w -X github.com/termux-webui/webui/internal/version.Version=" + version
}

func goBuild(root, out, pkg string, tags string, ldflags string) error {
	args := []string{"build", "-trimpath", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	args = append(args, pkg)
	c := exec.Command("go", args...)
	c.Dir = root
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func build(root, dir string) (*bins, error) {
	b := &bins{
		webui: filepath.Join(dir, "webui"), webuitest: filepath.Join(dir, "webui-test"),
		floor: filepath.Join(dir, "floor"), killwin: filepath.Join(dir, "killwindow"),
		pyhealth: filepath.Join(root, "bench", "peers", "pyhealth.py"),
	}
	b.version = "bench"
	if v, err := gitOut(root, "describe", "--tags", "--always", "--dirty"); err == nil {
		b.version = strings.TrimPrefix(v, "v")
	}
	ld := releaseLDFlags(b.version)
	steps := []struct{ out, pkg, tags, ld string }{
		{b.webui, "./cmd/webui", "", ld},
		{b.webuitest, "./cmd/webui", "webuitest", ld},
		{b.floor, "./bench/floor", "", "-s -w"},
		{b.killwin, "./test/fixtures/killwindow", "", ""},
	}
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = goBuild(root, s.out, s.pkg, s.tags, s.ld)
		}()
	}
	wg.Wait()
	return b, errors.Join(errs...)
}

var aptOnce struct {
	sync.Mutex
	updated bool
}

// ensureTool finds a program, installing its Debian package with apt-get
// when it is missing and we are root.
func ensureTool(name, pkg string, paths ...string) (string, error) {
	find := func() string {
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p
			}
		}
		if len(paths) == 0 {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%s is missing and installing it needs root: run `apt-get install -y %s` as root", name, pkg)
	}
	aptOnce.Lock()
	defer aptOnce.Unlock()
	if !aptOnce.updated {
		progress("installing %s: apt-get update", pkg)
		if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %v\n%s", err, out)
		}
		aptOnce.updated = true
	}
	progress("installing %s: apt-get install -y %s", name, pkg)
	c := exec.Command("apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg)
	c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get install %s: %v\n%s", pkg, err, out)
	}
	if p := find(); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s still missing after installing %s", name, pkg)
}

var progressStart = time.Now()

func progress(format string, a ...any) {
	el := time.Since(progressStart).Round(time.Second)
	fmt.Fprintf(os.Stderr, "[%5s] %s\n", el, fmt.Sprintf(format, a...))
}

// ports hands out loopback ports below the ephemeral range, so no client
// socket of the load generators can sit on one.
var ports = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	for range 2000 {
		p := 20000 + rand.IntN(12000)
		if ports.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		ports.used[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port")
}

func freeAddr() (string, error) {
	p, err := freePort()
	return "127.0.0.1:" + strconv.Itoa(p), err
}

// cleanEnv keeps a child off this machine's webui settings and home.
func cleanEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEBUI_") || strings.HasPrefix(kv, "TERMUX_") || strings.HasPrefix(kv, "PREFIX=") ||
			strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home+"/config", "XDG_STATE_HOME="+home+"/xdgstate")
	return append(env, extra...)
}

// inst is one webui installation: directories, a port, a binary.
type inst struct {
	bin, dir, addr string
}

func newInst(bin, dir string) (*inst, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# webui-bench\n"), 0o600); err != nil {
		return nil, err
	}
	return &inst{bin: bin, dir: dir, addr: addr}, nil
}

func (i *inst) path(rel string) string { return filepath.Join(i.dir, rel) }

func (i *inst) settings() []string {
	return []string{"--addr", i.addr, "--state-dir", i.path("state"), "--log-dir", i.path("log"),
		"--run-dir", i.path("run"), "--config", i.path("webui.conf")}
}

// child is a process this program started.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  *os.File
}

// spawn starts bin args with stdout and stderr going to logPath.
func spawn(bin string, args, env []string, logPath string) (*child, error) {
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c := exec.Command(bin, args...)
	c.Env = env
	c.Stdout, c.Stderr = f, f
	if err := c.Start(); err != nil {
		f.Close()
		return nil, err
	}
	ch := &child{cmd: c, done: make(chan struct{}), out: f}
	go func() {
		ch.err = c.Wait()
		f.Close()
		close(ch.done)
	}()
	return ch, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop sends sig and waits up to d, then SIGKILLs.
func (c *child) stop(sig syscall.Signal, d time.Duration) {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(d):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// serve starts `webui serve` for i with extra flags.
func (i *inst) serve(extra ...string) (*child, error) {
	args := append(append([]string{"serve"}, i.settings()...), extra...)
	return spawn(i.bin, args, cleanEnv(i.dir), i.path("console.txt"))
}

type health struct {
	Status     string    `json:"status"`
	Version    string    `json:"version"`
	PID        int       `json:"pid"`
	StartedAt  time.Time `json:"started_at"`
	Goroutines int       `json:"goroutines"`
	OpenFDs    int       `json:"open_fds"`
}

var probeClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func getHealth(addr string, deep bool) (*health, int, error) {
	u := "http://" + addr + "/health"
	if deep {
		u += "?deep=1"
	}
	resp, err := probeClient.Get(u)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, resp.StatusCode, err
	}
	return &h, resp.StatusCode, nil
}

// waitHealth polls /health every step until it answers 200 and ok(h).
func waitHealth(addr string, within, step time.Duration, ok func(*health) bool) (*health, error) {
	deadline := time.Now().Add(within)
	for {
		h, code, err := getHealth(addr, false)
		if err == nil && code == 200 && (ok == nil || ok(h)) {
			return h, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("status %d", code)
			}
			return nil, fmt.Errorf("no matching /health at %s within %s (last: %v)", addr, within, err)
		}
		time.Sleep(step)
	}
}

// csrfPost POSTs to an /api/ path with the CSRF token and Origin.
// csrfPost POSTs to an API path as the owner: the token from the state
// dir, and the CSRF token the console would send.
func csrfPost(addr, stateDir, path string) error {
	resp, err := probeClient.Get("http://" + addr + "/api/csrf")
	if err != nil {
		return err
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("POST", "http://"+addr+path, nil)
	req.Header.Set("X-CSRF-Token", tok.Token)
	req.Header.Set("Origin", "http://"+addr)
	if a := authHeader(stateDir); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err = probeClient.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

func pidAlive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// stopPID ends a process that is not our child: SIGTERM, then SIGKILL.
func stopPID(pid int, d time.Duration) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(d)
	for pidAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pidAlive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// killUnder SIGKILLs every process whose executable lies under dir: the
// servers, helpers and watchdogs the benchmarks started (and the ones those
// started) run copies of the binaries from there.
func killUnder(dir string) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.TrimSuffix(exe, " (deleted)"), dir+"/") {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}

// procStat is what /proc says about one process.
type procStat struct {
	rssKiB     int64
	cpuTicks   int64 // utime + stime, all threads
	ctxSwitch  int64 // voluntary + nonvoluntary, summed over the threads
	runNs      int64 // time on a CPU from /proc/PID/task/*/schedstat, summed over the threads (ns, exact)
	threads    int
	readFailed bool
}

func readProc(pid int) procStat {
	var ps procStat
	base := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(base + "/stat")
	if err != nil {
		ps.readFailed = true
		return ps
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) > 12 {
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ps.cpuTicks = u + st
	}
	if b, err := os.ReadFile(base + "/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "VmRSS" {
				ps.rssKiB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			}
		}
	}
	tasks, _ := os.ReadDir(base + "/task")
	ps.threads = len(tasks)
	for _, t := range tasks {
		if b, err := os.ReadFile(base + "/task/" + t.Name() + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				ps.runNs += n
			}
		}
		b, err := os.ReadFile(base + "/task/" + t.Name() + "/status")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				ps.ctxSwitch += n
			}
		}
	}
	return ps
}

// waitFileContains polls path until it contains sub.
func waitFileContains(path, sub string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(sub)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q within %s", path, sub, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// authHeader is the Authorization value ("Bearer <token>") for the server
// whose state dir this is, or "" when it has written no token: the one
// place the benchmark learns how to get past a server's login.
func authHeader(stateDir string) string {
	b, err := os.ReadFile(filepath.Join(stateDir, paths.TokenFileName))
	if err != nil {
		return ""
	}
	if t := strings.TrimSpace(string(b)); t != "" {
		return "Bearer " + t
	}
	return ""
}
