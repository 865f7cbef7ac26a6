package apps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// testApp is the test app (test/fixtures/testapp), built once.
var testApp string

func TestMain(m *testing.M) {
	if dir := os.Getenv("APPS_TEST_SUPERVISE"); dir != "" {
		superviseForTest(dir) // a stand-in webui for the tests that kill one
		return
	}
	tmp, err := os.MkdirTemp("", "apps-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testApp = filepath.Join(tmp, "testapp")
	build := exec.Command("go", "build", "-o", testApp, "../../test/fixtures/testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testapp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// dirs are one fake webui's state, run and log dirs.
type dirs struct{ state, run, log, home string }

func newDirs(t *testing.T) dirs {
	root := t.TempDir()
	d := dirs{filepath.Join(root, "state"), filepath.Join(root, "run"), filepath.Join(root, "log"), filepath.Join(root, "home")}
	if err := os.MkdirAll(d.home, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func quietLog() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func (d dirs) config() Config {
	return Config{StateDir: d.state, RunDir: d.run, LogDir: d.log, Home: d.home, Log: quietLog(),
		StartTimeout: 5 * time.Second, HealthInterval: 100 * time.Millisecond, BackoffBase: 50 * time.Millisecond,
		BackoffMax: time.Second, StableAfter: time.Minute}
}

// start supervises specs and, at the test's end, stops what it started.
func start(t *testing.T, cfg Config, specs []Spec, errs []*FileError) *Supervisor {
	t.Helper()
	s := New(cfg, specs, errs)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.StopAll(ctx)
		s.Close()
	})
	return s
}

func appSpec(name string, extra ...string) Spec {
	text := "command = " + testApp + "\nport = auto\nhealth = /healthz\n" + strings.Join(extra, "\n") + "\n"
	s, ferr := Parse(name+".conf", []byte(text))
	if ferr != nil {
		panic(ferr)
	}
	return s
}

func shSpec(name, script string, extra ...string) Spec {
	text := "command = sh -c " + JoinCommand([]string{script}) + "\n" + strings.Join(extra, "\n") + "\n"
	s, ferr := Parse(name+".conf", []byte(text))
	if ferr != nil {
		panic(ferr)
	}
	return s
}

func waitRunning(t *testing.T, s *Supervisor, name string) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.Wait(ctx, name)
	if err != nil {
		t.Fatalf("app %s not running: %v (%+v)", name, err, st)
	}
	return st
}

// waitFor polls the app's status until cond holds (the test's own poll:
// the supervisor itself is told, not polling).
func waitFor(t *testing.T, s *Supervisor, name string, within time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, _ := s.Status(name)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("app %s: not %s within %s: %+v", name, what, within, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func kill(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
}

// superviseForTest runs a Supervisor for one test app and blocks: the
// process that a test SIGKILLs in webui's place.
func superviseForTest(dir string) {
	d := dirs{filepath.Join(dir, "state"), filepath.Join(dir, "run"), filepath.Join(dir, "log"), filepath.Join(dir, "home")}
	testApp = os.Getenv("APPS_TEST_APP")
	New(d.config(), []Spec{appSpec("web")}, nil)
	select {}
}
