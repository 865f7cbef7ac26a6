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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
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
	if repoRoot, err = harness.RepoRoot(); err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "webui")
	if out, err := build(binary, "webuitest"); err != nil {
		fmt.Fprintf(os.Stderr, "build failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles cmd/webui (see harness.Build).
func build(out, tags string, extraLDFlags ...string) ([]byte, error) {
	return harness.Build(repoRoot, out, "./cmd/webui", tags, extraLDFlags...)
}

// proc is one running webui process.
type proc struct {
	t      *testing.T
	h      *harness.Proc
	cmd    *exec.Cmd
	dir    string // holds state/, log/, run/, webui.conf
	addr   string
	stderr *syncBuffer
	client *http.Client
}

type syncBuffer = harness.SyncBuffer

type health = harness.Health

type opts struct {
	args     []string
	env      []string
	config   string // written to dir/webui.conf when not empty
	dir      string // reuse a directory (state survives restarts)
	bin      string
	noWait   bool            // don't wait for the listening address
	setupCmd func(*exec.Cmd) // sets the process's stdio itself
	seccomp  bool            // run under the seccomp launcher (seccomp_test.go)
}

// baseEnv keeps the child off the platform defaults of the machine running
// the tests.
func baseEnv(dir string) []string { return harness.Env(dir) }

func start(t *testing.T, o opts) *proc {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	d := harness.Dir(dir)
	if err := d.WriteConfig(o.config, "# empty\n"); err != nil {
		t.Fatal(err)
	}
	bin := o.bin
	if bin == "" {
		bin = binary
	}
	args := append(append([]string{"serve"}, d.Settings("127.0.0.1:0")...), "--log-stderr", "on")
	args = append(args, o.args...)
	var cmd *exec.Cmd
	if o.seccomp {
		cmd = harness.Command(seccompLauncher(t), bin, args...)
	} else {
		cmd = exec.Command(bin, args...)
	}
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
	if setup != nil {
		setup(cmd)
	}
	h, err := harness.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, h: h, cmd: cmd, dir: dir, stderr: h.Out,
		client: &http.Client{Timeout: 10 * time.Second, Transport: ownerTransport{Base: &http.Transport{DisableKeepAlives: true}}}}
	t.Cleanup(func() {
		if p.alive() {
			_ = cmd.Process.Kill()
			<-h.Done()
		}
		if t.Failed() {
			t.Logf("webui output:\n%s", p.stderr.String())
		}
	})
	return p
}

// waitListening reads the JSON log file until the server says where it
// listens.
func (p *proc) waitListening(timeout time.Duration) string {
	p.t.Helper()
	addr, err := harness.WaitListening(harness.Dir(p.dir), p.h, timeout)
	if err != nil {
		p.t.Fatalf("%v:\n%s", err, p.stderr.String())
	}
	return addr
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func (p *proc) alive() bool { return p.h.Alive() }

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
	case <-p.h.Done():
	case <-time.After(timeout):
		p.t.Fatalf("webui still running after %s:\n%s", timeout, p.stderr.String())
	}
	return p.h.Status()
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
		p.t.Fatalf("webui died: %v\n%s", p.h.Err(), p.stderr.String())
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

func (p *proc) logFile() string { return harness.Dir(p.dir).ReadLog() }

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
