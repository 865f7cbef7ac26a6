package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	iproc "github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/test/harness"
)

// ctlEnv is one test's webui installation: its own directories and port,
// and the binary it runs.
type ctlEnv struct {
	t    *testing.T
	dir  string
	bin  string
	addr string
	env  []string // added to baseEnv
	// under is a launcher that run and watchdog start webui under (the
	// seccomp launcher), or "".
	under string
	// watchdogOut is the output of the watchdog that watchdog started.
	watchdogOut *syncBuffer
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

func (e *ctlEnv) path(rel string) string { return harness.Dir(e.dir).Path(rel) }

// settings are the flags that point webui at this installation.
func (e *ctlEnv) settings() []string { return harness.Dir(e.dir).Settings(e.addr) }

func (e *ctlEnv) environ() []string { return append(baseEnv(e.dir), e.env...) }

// run runs `webui CMD... <settings> EXTRA...` to completion: cmd is the
// command words (such as "ctl", "start"), extra more flags.
func (e *ctlEnv) run(cmd []string, extra ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	args := append(append(append([]string{}, cmd...), e.settings()...), extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := harness.CommandContext(ctx, e.under, e.bin, args...)
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
	h, _, err := harness.GetHealth(ctlClient, e.addr, false)
	return h, err
}

// waitHealth waits until /health answers and ok(h) holds.
func (e *ctlEnv) waitHealth(within time.Duration, ok func(*health) bool) *health {
	e.t.Helper()
	h, err := harness.WaitHealth(ctlClient, e.addr, within, 10*time.Millisecond, ok)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
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
	c := harness.Command(e.under, e.bin, args...)
	c.Env = e.environ()
	w, err := harness.Start(c)
	if err != nil {
		e.t.Fatal(err)
	}
	e.watchdogOut = w.Out
	e.t.Cleanup(func() {
		w.Stop(syscall.SIGTERM, 5*time.Second)
		if e.t.Failed() {
			e.t.Logf("watchdog output:\n%s", ctlLastLines(w.Out.String(), 60))
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
