package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
	"github.com/termux-webui/webui/internal/server"
	"github.com/termux-webui/webui/internal/version"
)

// Instance is one webui server installation as the settings describe it.
type Instance struct {
	Addr     string // the configured listen address (addr)
	RunDir   string
	LogDir   string
	StateDir string
	// PIDFile is the server's pid file (in RunDir).
	PIDFile string
	// Exe is the webui binary that `serve` runs from.
	Exe string
	// ServeArgs are the settings flags given to ctl, passed on to
	// `webui serve` so the server sees what ctl saw.
	ServeArgs []string
	// Env is the server's environment; nil means ours.
	Env []string
	// Android: wait out the restart kill window before starting.
	Android      bool
	RestartDelay time.Duration
	// Schedule is the delayed restart's (restart_delay, restart_survive,
	// restart_attempts).
	Schedule schedule.Schedule
	// Client asks /health; nil means a client without keep-alive.
	Client *http.Client
}

// Running reads the pid file: the pid and whether a live process holds its
// lock. A missing or unreadable pid file means not running.
func (i *Instance) Running() (pid int, ok bool) {
	for try := 0; ; try++ {
		pid, held, err := proc.Read(i.PIDFile)
		if err != nil || !held {
			return 0, false
		}
		// The holder locks before it writes its pid: give it a moment.
		if pid > 0 || try == 20 {
			return pid, pid > 0
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stopped reports whether `ctl stop` stopped the server on purpose, and when.
func (i *Instance) Stopped() (time.Time, bool) {
	st, err := os.Stat(paths.Run(i.RunDir).Stopped())
	if err != nil {
		return time.Time{}, false
	}
	return st.ModTime(), true
}

// pidFileAge is how long ago the pid file was written: the server writes
// it early in its startup (and again after an exec restart).
func (i *Instance) pidFileAge() time.Duration {
	st, err := os.Stat(i.PIDFile)
	if err != nil {
		return 0
	}
	return time.Since(st.ModTime())
}

// errNotWebui means something answered HTTP on the address, but not a
// webui /health document.
var errNotWebui = errors.New("answers HTTP, but not as webui")

// ProbeError says why /health did not answer.
type ProbeError struct {
	Addr string
	// Refused: nothing listens there (connection refused).
	Refused bool
	Err     error
}

func (e *ProbeError) Error() string { return fmt.Sprintf("http://%s/health: %v", e.Addr, e.Err) }
func (e *ProbeError) Unwrap() error { return e.Err }

// IsRefused reports whether err says nothing listens on the address.
func IsRefused(err error) bool {
	var pe *ProbeError
	return errors.As(err, &pe) && pe.Refused
}

// IsNotWebui reports whether err says something other than webui answers.
func IsNotWebui(err error) bool { return errors.Is(err, errNotWebui) }

var defaultClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

// Probe asks http://addr/health, giving up after timeout. It returns the
// health document of a webui that answers, or a *ProbeError.
func (i *Instance) Probe(ctx context.Context, addr string, timeout time.Duration) (*server.Health, error) {
	c := i.Client
	if c == nil {
		c = defaultClient
	}
	return probe(ctx, c, addr, timeout)
}

func probe(ctx context.Context, c *http.Client, addr string, timeout time.Duration) (*server.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/health", nil)
	if err != nil {
		return nil, &ProbeError{Addr: addr, Err: err}
	}
	req.Header.Set("User-Agent", "webui-ctl/"+version.Version)
	resp, err := c.Do(req)
	if err != nil {
		return nil, &ProbeError{Addr: addr, Refused: errors.Is(err, syscall.ECONNREFUSED), Err: simplify(err)}
	}
	defer resp.Body.Close()
	var h server.Health
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &ProbeError{Addr: addr, Err: simplify(err)}
	}
	if json.Unmarshal(body, &h) != nil || h.PID <= 0 || h.StartedAt.IsZero() {
		return nil, &ProbeError{Addr: addr, Err: fmt.Errorf("%w (status %d)", errNotWebui, resp.StatusCode)}
	}
	return &h, nil
}

// simplify drops the "Get URL:" wrapping; the ProbeError names the URL.
func simplify(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer in time")
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errors.New("connection refused")
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// HealthAddr is the host:port to ask for pid's /health: the configured
// address made dialable (0.0.0.0 and [::] become loopback) or, when the
// configured port is 0, the address pid's lifetime record says it listens
// on. "" when that is unknown.
func (i *Instance) HealthAddr(pid int) string {
	host, port, err := net.SplitHostPort(i.Addr)
	if err != nil {
		return ""
	}
	if port == "0" {
		if pid <= 0 {
			return ""
		}
		lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
		for _, lt := range lts {
			if lt.PID == pid && lt.Verdict == diag.Running && lt.Addr != "" {
				return Dialable(lt.Addr)
			}
		}
		return ""
	}
	return Dialable(net.JoinHostPort(host, port))
}

// FixedPort reports whether the configured address names a port (not 0).
func (i *Instance) FixedPort() bool {
	_, port, err := net.SplitHostPort(i.Addr)
	return err == nil && port != "0"
}

// Dialable turns a listening address into one a client can dial: the
// wildcard hosts become loopback.
func Dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// LastExit is when the newest lifetime that is over ended, as its record
// says (zero when unknown: a SIGKILL leaves no exit time).
func (i *Instance) LastExit() time.Time {
	lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
	for _, lt := range lts {
		if lt.Verdict == diag.Running {
			continue
		}
		if lt.EndedAt != nil {
			return *lt.EndedAt
		}
		return time.Time{}
	}
	return time.Time{}
}

// ready reports whether pid's lifetime record says it listens (so a
// silent /health is not a slow start).
func (i *Instance) ready(pid int) bool {
	lt := i.lifetimeOf(pid)
	return lt != nil && lt.Addr != "" && lt.Verdict == diag.Running
}

// lifetimeOf is the newest recorded lifetime of pid (nil if none).
func (i *Instance) lifetimeOf(pid int) *diag.Lifetime {
	lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
	for _, lt := range lts {
		if lt.PID == pid {
			return &lt
		}
	}
	return nil
}

// LastDeath is the newest lifetime that is not running (nil if none).
func (i *Instance) LastDeath() *diag.Lifetime {
	lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
	for _, lt := range lts {
		if lt.Verdict != diag.Running {
			return &lt
		}
	}
	return nil
}

// serverEnv is the environment for a server we start: ours (or Env),
// without what describes a handoff from a previous image.
func (i *Instance) serverEnv() []string {
	env := i.Env
	if env == nil {
		env = os.Environ()
	}
	return handoff.StripHandoff(env)
}

// tailFrom returns the last n lines of path written after offset.
func tailFrom(path string, offset int64, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() <= offset {
		return nil
	}
	const max = 64 << 10
	start := offset
	if st.Size()-start > max {
		start = st.Size() - max
	}
	b := make([]byte, st.Size()-start)
	if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if start > offset && len(lines) > 0 {
		lines = lines[1:] // a partial first line
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// fileSize is the size of path (0 if missing).
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// maxConsole is the size past which console.log is trimmed.
const maxConsole = 1 << 20

// TrimConsole keeps console.log from growing without bound: past
// maxConsole it is copied to console.log.1 and truncated in place. A
// running server keeps writing to it (its fd is O_APPEND, so it goes on
// at the new end); at most the lines written during the copy are lost.
func (i *Instance) TrimConsole() error {
	path := paths.Log(i.LogDir).Console()
	if fileSize(path) <= maxConsole {
		return nil
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".1", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("trim %s: %w", path, err)
	}
	return os.Truncate(path, 0)
}

func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
