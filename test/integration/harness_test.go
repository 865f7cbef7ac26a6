// Package integration drives the real webui binary as a process: real
// signals, real pipes, real sockets. TestMain builds it once with the
// webuitest tag (test-only routes such as /_test/big); TestReleaseBinary
// checks that a release build has none of them.
package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binary   string // built with -tags webuitest
	buildDir string
	repoRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webui-it-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	binary = filepath.Join(dir, "webui")
	if out, err := build(binary, "webuitest"); err != nil {
		fmt.Fprintf(os.Stderr, "build failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles cmd/webui. The race detector stays off: these tests are
// about the process's behaviour, and -race is applied to the unit tests.
func build(out, tags string, extraLDFlags ...string) ([]byte, error) {
	args := []string{"build", "-trimpath", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	if len(extraLDFlags) > 0 {
		args = append(args, "-ldflags", strings.Join(extraLDFlags, " "))
	}
	args = append(args, "./cmd/webui")
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// proc is one running webui process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	dir     string // holds state/, log/, run/, webui.conf
	addr    string
	stderr  *syncBuffer
	done    chan struct{}
	waitErr error
	client  *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type opts struct {
	args     []string
	env      []string
	config   string // written to dir/webui.conf when not empty
	dir      string // reuse a directory (state survives restarts)
	bin      string
	noWait   bool            // don't wait for the listening address
	setupCmd func(*exec.Cmd) // sets the process's stdio itself
}

// baseEnv keeps the child off the platform defaults of the machine running
// the tests.
func baseEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEBUI_") || strings.HasPrefix(kv, "TERMUX_") || strings.HasPrefix(kv, "PREFIX=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir, "XDG_CONFIG_HOME="+dir+"/config", "XDG_STATE_HOME="+dir+"/xdgstate")
}

func start(t *testing.T, o opts) *proc {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	if o.config != "" {
		if err := os.WriteFile(filepath.Join(dir, "webui.conf"), []byte(o.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bin := o.bin
	if bin == "" {
		bin = binary
	}
	args := append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--state-dir", filepath.Join(dir, "state"),
		"--log-dir", filepath.Join(dir, "log"),
		"--run-dir", filepath.Join(dir, "run"),
		"--config", filepath.Join(dir, "webui.conf"),
		"--log-stderr", "on",
	}, o.args...)
	if o.config == "" {
		if _, err := os.Stat(filepath.Join(dir, "webui.conf")); err != nil {
			_ = os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# empty\n"), 0o600)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(dir), o.env...)
	p := launch(t, cmd, dir, o.setupCmd)
	if !o.noWait {
		p.addr = p.waitListening(15 * time.Second)
	}
	return p
}

// launch starts cmd as a webui process whose files live in dir. Its output
// is captured unless setup is given (setup then sets the stdio it wants).
func launch(t *testing.T, cmd *exec.Cmd, dir string, setup func(*exec.Cmd)) *proc {
	t.Helper()
	p := &proc{t: t, cmd: cmd, dir: dir, stderr: &syncBuffer{}, done: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: ownerTransport{base: &http.Transport{DisableKeepAlives: true}}}}
	if setup != nil {
		setup(cmd)
	} else {
		cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	}
	// Processes a restart starts inherit the stdio pipes: don't let them
	// keep Wait from returning once webui itself has exited.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.alive() {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("webui output:\n%s", p.stderr.String())
		}
	})
	return p
}

var listenRe = regexp.MustCompile(`"addr":"([0-9.:\[\]a-f]+)"[^\n]*listening`)

// waitListening reads the JSON log file until the server says where it
// listens.
func (p *proc) waitListening(timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(p.dir, "log", "webui.log")); err == nil {
			if m := listenRe.FindAllSubmatch(b, -1); len(m) > 0 {
				addr := string(m[len(m)-1][1])
				registerServer(addr, filepath.Join(p.dir, "state"))
				return addr
			}
		}
		if !p.alive() {
			p.t.Fatalf("webui exited before listening (%v):\n%s", p.waitErr, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("webui did not listen within %s:\n%s", timeout, p.stderr.String())
	return ""
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) signal(s syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatalf("signal %v: %v", s, err)
	}
}

// wait returns the exit code, or -1 with the signal, within timeout.
func (p *proc) wait(timeout time.Duration) (code int, sig syscall.Signal) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("webui still running after %s:\n%s", timeout, p.stderr.String())
	}
	ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -1, ws.Signal()
	}
	return ws.ExitStatus(), 0
}

func (p *proc) get(path string) (*http.Response, []byte, error) {
	resp, err := p.client.Get(p.url(path))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

type health struct {
	Status     string                     `json:"status"`
	Version    string                     `json:"version"`
	PID        int                        `json:"pid"`
	StartedAt  time.Time                  `json:"started_at"`
	UptimeS    float64                    `json:"uptime_s"`
	Platform   map[string]any             `json:"platform"`
	Restart    map[string]string          `json:"restart"`
	Checks     map[string]json.RawMessage `json:"checks"`
	Goroutines int                        `json:"goroutines"`
	OpenFDs    int                        `json:"open_fds"`
}

func (p *proc) health(deep bool) (int, health) {
	p.t.Helper()
	path := "/health"
	if deep {
		path += "?deep=1"
	}
	resp, b, err := p.get(path)
	if err != nil {
		p.t.Fatalf("GET %s: %v\n%s", path, err, p.stderr.String())
	}
	var h health
	if err := json.Unmarshal(b, &h); err != nil {
		p.t.Fatalf("GET %s: bad JSON %q: %v", path, b, err)
	}
	return resp.StatusCode, h
}

// mustHealthy asserts /health answers 200 ok.
func (p *proc) mustHealthy() {
	p.t.Helper()
	if !p.alive() {
		p.t.Fatalf("webui died: %v\n%s", p.waitErr, p.stderr.String())
	}
	code, h := p.health(false)
	if code != 200 || h.Status != "ok" {
		p.t.Fatalf("health = %d %q", code, h.Status)
	}
}

// counts returns goroutines and open fds from deep health.
func (p *proc) counts() (goroutines, fds int) {
	p.t.Helper()
	_, h := p.health(true)
	return h.Goroutines, h.OpenFDs
}

// settle waits until the goroutine and fd counts are back within slack of
// the baseline, failing with the last counts if they never are.
func (p *proc) settle(baseG, baseFD, slack int, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	var g, fd int
	for {
		g, fd = p.counts()
		if g <= baseG+slack && fd <= baseFD+slack {
			p.t.Logf("counts settled: goroutines %d (baseline %d), fds %d (baseline %d)", g, baseG, fd, baseFD)
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("leak: goroutines %d (baseline %d), fds %d (baseline %d) after %s", g, baseG, fd, baseFD, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logHas waits up to 5 s for the log file to contain sub: lines are
// written after the events that cause them (a response, a signal).
func (p *proc) logHas(sub string) bool {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.logFile(), sub) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (p *proc) logFile() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log", "webui.log"))
	return string(b)
}

// runCLI runs the binary to completion and returns exit code and output.
func runCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	dir := t.TempDir()
	// Keep the machine's default state, log and run dirs (/var/lib/webui
	// for root) out of it; a test's own env or flags still win.
	cmd.Env = append(baseEnv(dir), "WEBUI_STATE_DIR="+dir+"/state", "WEBUI_LOG_DIR="+dir+"/log", "WEBUI_RUN_DIR="+dir+"/run")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// rawConn dials the server directly.
func (p *proc) rawConn() net.Conn {
	p.t.Helper()
	c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		p.t.Fatalf("dial: %v", err)
	}
	return c
}

// lines counts lines in s containing sub.
func lines(s, sub string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			n++
		}
	}
	return n
}
