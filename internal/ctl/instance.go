package ctl

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/logfile"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Instance is one webui server installation as the settings describe it.
// NewInstance builds it from the settings; the zero value of a field is
// "unknown", for the tests that need only part of it.
type Instance struct {
	Addr     health.Addr // the configured listen address (addr)
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
	// Prober asks /health over a kept connection; nil: a fresh
	// connection each time.
	Prober *health.Prober
}

// NewInstance describes the server that cfg names: exe runs it as
// `exe serve serveArgs...`, and android says whether Android's restart
// kill window applies.
func NewInstance(cfg *config.Config, exe string, serveArgs []string, android bool) (*Instance, error) {
	addr, err := health.ParseAddr(cfg.Addr)
	if err != nil {
		return nil, exitcode.New(exitcode.Usage, err)
	}
	return &Instance{
		Addr: addr, RunDir: cfg.RunDir, LogDir: cfg.LogDir, StateDir: cfg.StateDir,
		PIDFile: paths.Run(cfg.RunDir).PIDFile(), Exe: exe, ServeArgs: serveArgs,
		Android: android, RestartDelay: cfg.RestartDelay,
		Schedule: schedule.New(cfg.RestartDelay, cfg.RestartSurvive, cfg.RestartAttempts),
	}, nil
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

// Probe asks addr's /health, giving up after timeout (see health.Probe).
func (i *Instance) Probe(ctx context.Context, addr health.Addr, timeout time.Duration) (*health.Doc, error) {
	if i.Prober != nil {
		return i.Prober.Probe(ctx, addr, timeout)
	}
	return health.Probe(ctx, nil, addr, timeout)
}

// HealthAddr is the address to ask for pid's /health: the configured
// address made dialable (0.0.0.0 and [::] become loopback) or, when the
// configured port is 0, the address pid's lifetime record says it listens
// on. Zero when that is unknown.
func (i *Instance) HealthAddr(pid int) health.Addr {
	if i.Addr.IsZero() {
		return health.Addr{}
	}
	if !i.Addr.AnyPort() {
		return i.Addr.Dialable()
	}
	if pid <= 0 {
		return health.Addr{}
	}
	lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
	for _, lt := range lts {
		if lt.PID == pid && lt.Verdict == diag.Running && lt.Addr != "" {
			a, err := health.ParseAddr(lt.Addr)
			if err != nil {
				return health.Addr{}
			}
			return a.Dialable()
		}
	}
	return health.Addr{}
}

// FixedPort reports whether the configured address names a port (not 0).
func (i *Instance) FixedPort() bool { return !i.Addr.IsZero() && !i.Addr.AnyPort() }

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

// serverEnv is the environment for a server we start: ours (or Env),
// without what describes a handoff from a previous image.
func (i *Instance) serverEnv() []string {
	env := i.Env
	if env == nil {
		env = os.Environ()
	}
	return handoff.StripHandoff(env)
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
	return logfile.CopyTruncate(paths.Log(i.LogDir).Console(), maxConsole, 1)
}

func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
