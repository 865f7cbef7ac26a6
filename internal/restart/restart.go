// Package restart carries out a restart by the path that survives the
// platform webui runs on:
//
//   - exec: syscall.Exec in place, keeping the pid and handing the listening
//     socket to the new image, so supervisors notice nothing and no client
//     is refused (Linux, Docker).
//   - delayed: a process that outlives Android's restart kill window
//     starts the next server after restart_delay and checks that it
//     survives, retrying on the restart schedule (Android, Termux, PRoot).
//     That process is the watchdog when one runs, else a helper the old
//     server execs schedule.Lead before it exits.
//   - supervisor: exit with the "restart requested" code and let systemd
//     or runit start the next process.
//
// Every step is recorded in the lifetime records for `webui diagnose`.
package restart

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Result says how a restart ended for this process.
type Result struct {
	Exit   bool   // the process must now exit (delayed or supervisor strategies)
	Code   int    // its exit code
	Detail string // for the exit record
}

// Handoff is what a restart strategy may do with the serving side.
type Handoff struct {
	Addr string
	// Drain stops accepting and lets in-flight requests finish, up to
	// shutdown_timeout. With keep, the listening socket stays open and a
	// dup of it is returned, so connections queue in the backlog and no
	// client is refused while the next image starts.
	Drain func(keep bool) (*os.File, error)
	// Resume serves again on a socket Drain kept, after a failed restart.
	Resume func(*os.File) error
}

// Engine restarts this process with the chosen strategy.
type Engine struct {
	Strategy health.Strategy
	Android  bool
	Config   *config.Config
	Recorder *diag.Recorder
	PIDFile  *proc.PIDFile
	Log      interface {
		Infof(string, ...any)
		Warnf(string, ...any)
	}
	// Exe is the binary to run: normally os.Executable(), which names the
	// new file after an update renamed it into place.
	Exe  string
	Args []string
	Env  []string
	// Watchdog reports whether a watchdog runs for this server, which then
	// carries a delayed restart out (nil: never).
	Watchdog func() bool
	// exec is syscall.Exec and lead the delayed strategy's wait; tests
	// replace them.
	exec func(string, []string, []string) error
	lead func()
}

// Restart carries out a restart by e.Strategy (the server's Restarter).
func (e *Engine) Restart(ctx context.Context, reason string, h Handoff) (Result, error) {
	exe, err := e.exe()
	if err != nil {
		return Result{}, err
	}
	switch e.Strategy {
	case health.StrategyExec:
		return e.execInPlace(exe, reason, h)
	case health.StrategyDelayed:
		return e.delayed(exe, reason, h)
	case health.StrategySupervisor:
		return e.supervisor(reason, h)
	}
	return Result{}, fmt.Errorf("unknown restart strategy %q", e.Strategy)
}

func (e *Engine) exe() (string, error) {
	exe := e.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find own binary: %w", err)
		}
	}
	// Refuse before anything stops: a restart into a missing or broken
	// binary must leave the old process serving.
	st, err := os.Stat(exe)
	if err != nil {
		return "", fmt.Errorf("restart binary: %w", err)
	}
	if st.Mode()&0o111 == 0 || !st.Mode().IsRegular() {
		return "", fmt.Errorf("restart binary %s is not an executable file", exe)
	}
	return exe, nil
}

// nextEnv is our environment minus the variables that describe this
// image's handoff, plus extra.
func (e *Engine) nextEnv(extra ...string) []string {
	env := e.Env
	if env == nil {
		env = os.Environ()
	}
	return append(handoff.StripHandoff(env), extra...)
}

func (e *Engine) args() []string {
	if e.Args != nil {
		return e.Args
	}
	return os.Args
}

// execInPlace drains, keeps the socket, and execs the binary with the same
// pid. If the exec fails, it serves again on the same socket.
func (e *Engine) execInPlace(exe, reason string, h Handoff) (Result, error) {
	f, err := h.Drain(true)
	if err != nil {
		return Result{}, err
	}
	fd := int(f.Fd())
	extra := []string{
		handoff.ListenFD + "=" + strconv.Itoa(fd),
		handoff.ListenPID + "=" + strconv.Itoa(os.Getpid()),
		handoff.RestartOf + "=" + e.Recorder.ID(),
	}
	e.Recorder.PreRestart(health.StrategyExec, diag.Event{Reason: reason, Exe: exe, ListenFD: fd})
	e.Recorder.Exiting(diag.ReasonRestart, "exec in place ("+reason+")", exitcode.OK)
	e.Log.Infof("restart: exec %s in place (pid %d kept, listener fd %d handed over)", exe, os.Getpid(), fd)
	run := e.exec
	if run == nil {
		run = syscall.Exec
	}
	// From clearing close-on-exec to the exec, a process forked anywhere
	// else in the server (a hosted app's restart, a helper) would inherit
	// the listener and the pid file lock for good: the port stays bound
	// and the watchdog sees a live server in a dead one's place. A fork
	// holds ForkLock for writing; making an inheritable fd holds it for
	// reading (syscall's contract), which keeps every fork out.
	syscall.ForkLock.RLock()
	err = proc.SetCloexec(fd, false)
	if err == nil {
		if e.PIDFile != nil {
			if kv, kerr := e.PIDFile.KeepAcrossExec(); kerr == nil {
				extra = append(extra, kv)
			}
		}
		err = run(exe, e.args(), e.nextEnv(extra...))
		// Still here: the exec failed. Undo before any fork can see it.
		if e.PIDFile != nil {
			_ = e.PIDFile.CloseOnExec()
		}
		_ = proc.SetCloexec(fd, true)
	} else {
		err = fmt.Errorf("clear close-on-exec on the listener: %w", err)
	}
	syscall.ForkLock.RUnlock()
	e.Recorder.Resumed("exec " + exe + " failed: " + err.Error())
	if rerr := h.Resume(f); rerr != nil {
		return Result{Exit: true, Code: exitcode.Failure, Detail: "exec failed and could not resume: " + rerr.Error()}, nil
	}
	return Result{}, fmt.Errorf("exec %s: %w", exe, err)
}

// delayed leaves the restart to a process that outlives the kill window.
// With a watchdog running, the watchdog (long-lived, so Android spares it)
// starts the next server; otherwise the old server execs a restart helper
// and keeps serving schedule.Lead longer, so the helper is no new image
// when the old server exits (Android kills those with it). The intent
// record tells the watchdog this exit is a restart, and by whom.
func (e *Engine) delayed(exe, reason string, h Handoff) (Result, error) {
	cfg := e.Config
	sched := schedule.New(cfg.RestartDelay, cfg.RestartSurvive, cfg.RestartAttempts)
	serverArgv := append([]string{}, e.args()...)
	serverArgv[0] = exe // the server runs from the install path
	addr, err := health.ParseAddr(h.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("delayed restart: the listening address: %w", err)
	}
	in := schedule.Intent{PID: os.Getpid(), Record: e.Recorder.Path(), Reason: reason, Schedule: sched.String(),
		Argv: serverArgv, Health: addr.Dialable().URL(health.Path), By: schedule.ByWatchdog}
	what := "the watchdog starts the next process"
	if e.Watchdog == nil || !e.Watchdog() {
		argv := append([]string{exe, "restart-helper",
			"--record", in.Record,
			"--old-pid", strconv.Itoa(in.PID),
			"--schedule", in.Schedule,
			"--health", in.Health,
			"--run-dir", cfg.RunDir,
			"--"}, serverArgv...)
		// The helper runs this process's own image (/proc/self/exe names it
		// even after an update renamed a new binary into place): a broken new
		// release must not take the restart helper down with it.
		pid, err := proc.Spawn("/proc/self/exe", argv, proc.Attr{
			Env:    e.nextEnv(handoff.RestartOf + "=" + e.Recorder.ID()),
			Stdout: os.Stdout,
			Stderr: os.Stderr,
			Setsid: true,
		})
		if err != nil {
			return Result{}, fmt.Errorf("start restart helper: %w", err)
		}
		in.By, in.HelperPID = schedule.ByHelper, pid
		what = fmt.Sprintf("helper pid %d starts the next process", pid)
	}
	in.At = time.Now().UTC()
	if err := schedule.WriteIntent(cfg.RunDir, in); err != nil {
		e.Log.Warnf("restart: %v", err)
	}
	e.Recorder.PreRestart(health.StrategyDelayed, diag.Event{Reason: reason, By: in.By, HelperPID: in.HelperPID,
		DelayS: sched.Delay.Seconds(), Schedule: in.Schedule})
	e.Log.Infof("restart: %s %s after this process exits; serving %s more first", what, sched.Delay, schedule.Lead)
	lead := e.lead
	if lead == nil {
		lead = func() { time.Sleep(schedule.Lead) }
	}
	lead()
	if _, err := h.Drain(false); err != nil {
		e.Log.Warnf("restart: drain: %v", err)
	}
	return Result{Exit: true, Code: exitcode.OK, Detail: fmt.Sprintf("delayed: %s after %s", what, sched.Delay)}, nil
}

// supervisor drains and exits with the "restart requested" code. Under
// runit on Android, the run script must also wait out the kill window, so
// the earliest start time is left for it.
func (e *Engine) supervisor(reason string, h Handoff) (Result, error) {
	detail := "supervisor: exit " + strconv.Itoa(exitcode.Restart) + " for the supervisor to start the next process"
	if e.Android {
		nb := time.Now().Add(e.Config.RestartDelay).Unix()
		if err := os.WriteFile(paths.Run(e.Config.RunDir).NotBefore(), []byte(strconv.FormatInt(nb, 10)+"\n"), 0o600); err != nil {
			e.Log.Warnf("restart: write %s: %v", paths.Run(e.Config.RunDir).NotBefore(), err)
		}
		detail += fmt.Sprintf(", not before %s", time.Unix(nb, 0).Format(time.RFC3339))
	}
	e.Recorder.PreRestart(health.StrategySupervisor, diag.Event{Reason: reason})
	if _, err := h.Drain(false); err != nil {
		e.Log.Warnf("restart: drain: %v", err)
	}
	return Result{Exit: true, Code: exitcode.Restart, Detail: detail}, nil
}

// Inherited returns the listening socket handed over by the previous image
// (our own handoff.ListenFD, or systemd socket activation), and clears the
// variables so no child inherits them.
func Inherited(getenv func(string) string) (*os.File, error) {
	defer func() {
		for _, k := range handoff.Listener {
			os.Unsetenv(k)
		}
	}()
	pid := strconv.Itoa(os.Getpid())
	fd := -1
	switch {
	case getenv(handoff.ListenFD) != "" && getenv(handoff.ListenPID) == pid:
		n, err := strconv.Atoi(getenv(handoff.ListenFD))
		if err != nil || n < 3 {
			return nil, fmt.Errorf("bad %s=%q", handoff.ListenFD, getenv(handoff.ListenFD))
		}
		fd = n
	case getenv(handoff.SystemdListenFDs) == "1" && getenv(handoff.SystemdListenPID) == pid:
		fd = 3
	default:
		return nil, nil
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "inherited-listener"), nil
}
