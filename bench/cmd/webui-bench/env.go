package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return "", errors.New("run webui-bench inside the webui module (make bench)")
	}
	return root, nil
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

func goBuild(root, out, pkg string, tags string, ldflags string) error {
	var ld []string
	if ldflags != "" {
		ld = []string{ldflags}
	}
	if b, err := harness.Build(root, out, pkg, tags, ld...); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
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
	ld := harness.ReleaseLDFlags(b.version)
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

// cleanEnv keeps a child off this machine's webui settings and home.
func cleanEnv(home string, extra ...string) []string { return harness.Env(home, extra...) }

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

func (i *inst) path(rel string) string { return harness.Dir(i.dir).Path(rel) }

func (i *inst) settings() []string { return harness.Dir(i.dir).Settings(i.addr) }

// child is a process this program started.
type child struct {
	*harness.Proc
	cmd  *exec.Cmd
	done <-chan struct{}
}

// spawn starts bin args with stdout and stderr going to logPath.
func spawn(bin string, args, env []string, logPath string) (*child, error) {
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	c := exec.Command(bin, args...)
	c.Env = env
	c.Stdout, c.Stderr = f, f
	p, err := harness.Start(c)
	if err != nil {
		return nil, err
	}
	return &child{Proc: p, cmd: c, done: p.Done()}, nil
}

func (c *child) pid() int { return c.Pid() }

func (c *child) alive() bool { return c.Alive() }

// stop sends sig and waits up to d, then SIGKILLs.
func (c *child) stop(sig syscall.Signal, d time.Duration) { c.Stop(sig, d) }

// serve starts `webui serve` for i with extra flags.
func (i *inst) serve(extra ...string) (*child, error) {
	args := append(append([]string{"serve"}, i.settings()...), extra...)
	return spawn(i.bin, args, cleanEnv(i.dir), i.path("console.txt"))
}

type health = harness.Health

var probeClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func getHealth(addr string, deep bool) (*health, int, error) {
	return harness.GetHealth(probeClient, addr, deep)
}

// waitHealth polls /health every step until it answers 200 and ok(h).
func waitHealth(addr string, within, step time.Duration, ok func(*health) bool) (*health, error) {
	return harness.WaitHealth(probeClient, addr, within, step, ok)
}

// csrfPost POSTs to an API path as the owner (harness.CSRFPost).
func csrfPost(addr, stateDir, path string) error {
	return harness.CSRFPost(probeClient, addr, stateDir, path)
}

func pidAlive(pid int) bool { return harness.PIDAlive(pid) }

// stopPID ends a process that is not our child: SIGTERM, then SIGKILL.
func stopPID(pid int, d time.Duration) { harness.StopPID(pid, d) }

// authHeader is the Authorization value for the server whose state dir
// this is, or "" when it has written no token.
func authHeader(stateDir string) string { return harness.AuthHeader(stateDir) }
