package restart

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/proc"

	"golang.org/x/sys/unix"
)

// envRole makes the test binary play a part instead of running the tests:
// the restart's new image, the helper it spawns, or a server the helper
// starts. The parts run as real processes, as in production.
const envRole = "RESTART_TEST_ROLE"

// Settings for the parts.
const (
	envDir    = "RESTART_TEST_DIR"    // state and run dir of exec-old / exec-new
	envOut    = "RESTART_TEST_OUT"    // where record-argv writes what it got
	envAddr   = "RESTART_TEST_ADDR"   // where the server part listens
	envServer = "RESTART_TEST_SERVER" // what it does: healthy, exit:N, kill
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(playRole(role))
	}
	os.Exit(m.Run())
}

func playRole(role string) int {
	switch role {
	case "exec-old":
		return execOld()
	case "exec-new":
		return execNew()
	case "record-argv":
		return recordArgv()
	case "server":
		return fakeServer()
	}
	fmt.Fprintln(os.Stderr, "unknown role", role)
	return 99
}

// argvReport is what a spawned or exec'd part was handed.
type argvReport struct {
	Args      []string `json:"args"`
	Env       []string `json:"env"`
	PID       int      `json:"pid"`
	SID       int      `json:"sid"`
	Image     string   `json:"image,omitempty"`
	Adopted   bool     `json:"pidfile_adopted,omitempty"`
	ListenEnv string   `json:"listen_env_after,omitempty"`
}

func report(image string) argvReport {
	sid, _ := unix.Getsid(0)
	return argvReport{Args: os.Args, Env: os.Environ(), PID: os.Getpid(), SID: sid, Image: image}
}

// recordArgv is the restart helper's stand-in: it writes what it was
// given and exits.
func recordArgv() int {
	b, _ := json.Marshal(report("helper"))
	if err := os.WriteFile(os.Getenv(envOut)+".tmp", b, 0o600); err != nil {
		return 1
	}
	if err := os.Rename(os.Getenv(envOut)+".tmp", os.Getenv(envOut)); err != nil {
		return 1
	}
	return 0
}

// fakeServer is the server a restart helper starts.
func fakeServer() int {
	do := os.Getenv(envServer)
	switch {
	case do == "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case strings.HasPrefix(do, "exit:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(do, "exit:"))
		return n
	case do == "healthy":
		ln, err := net.Listen("tcp", os.Getenv(envAddr))
		if err != nil {
			return 3
		}
		go func() { time.Sleep(30 * time.Second); os.Exit(0) }() // never outlive the test
		// A webui /health document: the helper counts nothing else as healthy.
		doc, _ := json.Marshal(health.Doc{Status: "ok", PID: os.Getpid(), StartedAt: time.Now().UTC()})
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
	}
	return 98
}

// execOld is a server that restarts with the exec strategy for real: it
// holds a pid file and a lifetime record, serves on 127.0.0.1:0, prints
// "ADDR ID" and restarts when a line arrives on stdin.
func execOld() int {
	dir := os.Getenv(envDir)
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "exec-old:", err); return 1 }
	rec, err := diag.Install(diag.Options{StateDir: dir, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		return fail(err)
	}
	pf, err := proc.Acquire(filepath.Join(dir, "webui.pid"))
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	h := serve(ln, "old")
	fmt.Println(ln.Addr(), rec.ID())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fail(err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	env := []string{envRole + "=exec-new", envDir + "=" + dir,
		// Left over from an earlier handoff: none may reach the new image.
		handoff.ListenFD + "=99", handoff.ListenPID + "=1", handoff.RestartOf + "=stale", handoff.PIDFileFD + "=98",
		"LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=x", "KEEP_ME=1"}
	e := &Engine{Strategy: "exec", Recorder: rec, PIDFile: pf, Log: &logger{}, Exe: exe,
		Args: []string{exe, "serve", "--addr", ln.Addr().String()}, Env: env}
	_, err = e.Restart(context.Background(), "test", h.Handoff)
	return fail(fmt.Errorf("still running after the exec: %v", err))
}

// execNew is the image execOld became: it takes the listener and the pid
// file over as `webui serve` does and reports what it got on /who.
func execNew() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "exec-new:", err); return 1 }
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	r := report("new")
	pf, err := proc.Inherit(filepath.Join(os.Getenv(envDir), "webui.pid"), getenv)
	if err != nil {
		return fail(err)
	}
	fd, _ := strconv.Atoi(env[handoff.PIDFileFD])
	r.Adopted = fd > 2 && int(pf.File().Fd()) == fd
	f, err := Inherited(getenv)
	if err != nil || f == nil {
		return fail(fmt.Errorf("no inherited listener: %v", err))
	}
	r.ListenEnv = os.Getenv(handoff.ListenFD) + os.Getenv(handoff.ListenPID) + os.Getenv("LISTEN_FDS") + os.Getenv(handoff.PIDFileFD)
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fail(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/who", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(r) })
	mux.HandleFunc("/quit", func(http.ResponseWriter, *http.Request) {
		go func() { time.Sleep(10 * time.Millisecond); os.Exit(0) }()
	})
	go func() { time.Sleep(30 * time.Second); os.Exit(2) }()
	_ = http.Serve(ln, mux)
	return 1
}

// testServer is the serving side of a Handoff, as server.Run provides it:
// Drain stops serving (keeping a dup of the socket when asked), Resume
// serves on that dup again.
type testServer struct {
	Handoff
	mu      sync.Mutex
	srv     *http.Server
	ln      net.Listener
	served  chan struct{} // closed when srv.Serve returned
	open    atomic.Int64  // connections not yet closed
	drains  []bool        // keep argument of each Drain
	resumes int
	events  *[]string // shared with the test's lead, to order the steps
}

func serve(ln net.Listener, image string) *testServer {
	s := &testServer{events: new([]string)}
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(report(image))
	})
	start := func(l net.Listener) {
		s.srv = &http.Server{Handler: handler, ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.open.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.open.Add(-1)
			}
		}}
		s.ln, s.served = l, make(chan struct{})
		go func(srv *http.Server, done chan struct{}) { _ = srv.Serve(l); close(done) }(s.srv, s.served)
	}
	start(ln)
	s.Addr = ln.Addr().String()
	s.Drain = func(keep bool) (*os.File, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.drains = append(s.drains, keep)
		*s.events = append(*s.events, fmt.Sprintf("drain(%v)", keep))
		var f *os.File
		if keep {
			var err error
			if f, err = s.ln.(*net.TCPListener).File(); err != nil {
				return nil, err
			}
		}
		// As server.Run drains: stop accepting, and once the accept loop
		// is out, answer what every taken connection asks, then close it.
		// (http.Server.Shutdown would drop a request read after it began.)
		_ = s.ln.Close()
		<-s.served
		s.srv.SetKeepAlivesEnabled(false)
		for deadline := time.Now().Add(5 * time.Second); s.open.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return f, nil
	}
	s.Resume = func(f *os.File) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.resumes++
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return err
		}
		start(l)
		return nil
	}
	return s
}

func (s *testServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.srv.Close()
}

type logger struct {
	mu    sync.Mutex
	lines []string
}

func (l *logger) Infof(f string, a ...any) { l.add("info: " + fmt.Sprintf(f, a...)) }
func (l *logger) Warnf(f string, a ...any) { l.add("warn: " + fmt.Sprintf(f, a...)) }
func (l *logger) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
