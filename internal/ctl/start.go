package ctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/logfile"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// StartOptions tune Start.
type StartOptions struct {
	// Wait is how long the new server has to answer /health.
	Wait time.Duration
	// IgnoreWindow skips waiting out Android's restart kill window (the
	// caller already did).
	IgnoreWindow bool
	// Notify, when set, hears about waits worth telling a person about.
	Notify func(msg string)
}

// StartResult says which server answers after Start.
type StartResult struct {
	PID    int
	Addr   health.Addr
	Health *health.Doc
	// Already: a server was running before; Start did not start one.
	Already bool
}

// StartError explains a start that failed, with the evidence.
type StartError struct {
	// Code is the exit code to pass on: the server's own, when it exited.
	Code int
	PID  int
	Msg  string
	// Console holds the server's last console lines from this attempt.
	Console []string
	// Lifetime is the server's lifetime record, when it wrote one.
	Lifetime *diag.Lifetime
	// Signal killed the server before it answered (0: it exited, or lives).
	Signal syscall.Signal
}

func (e *StartError) Error() string { return e.Msg }

// Unwrap lets exitcode.Of find the exit code to pass on.
func (e *StartError) Unwrap() error { return exitcode.New(e.Code, errors.New(e.Msg)) }

// pollEvery is how often Start looks at a starting server.
const pollEvery = 50 * time.Millisecond

// Start starts the server detached (a new session, stdio to console.log)
// and waits until it answers /health. A server that already runs is not
// started twice: Start waits for it to answer and reports it as Already.
// That also settles two concurrent starts: the pid file lets one server
// run, the other exits 4, and its ctl reports the winner.
//
// On Android, unless told otherwise, Start first waits until
// RestartDelay has passed since the last recorded exit: a process started
// sooner in the same cgroup is killed before its first instruction.
func (i *Instance) Start(ctx context.Context, o StartOptions) (StartResult, error) {
	if o.Wait <= 0 {
		o.Wait = 15 * time.Second
	}
	deadline := time.Now().Add(o.Wait)
	for attempt := 0; ; attempt++ {
		if pid, ok := i.Running(); ok {
			res, err := i.awaitRunning(ctx, pid, deadline)
			if err == nil || attempt >= 2 || proc.Alive(pid) {
				return res, err
			}
			continue // it went away while we waited: start one ourselves
		}
		if err := i.portFree(ctx); err != nil {
			if errors.Is(err, errJustStarted) {
				continue // a concurrent start won the race
			}
			return StartResult{}, err
		}
		if i.Android && !o.IgnoreWindow {
			if err := i.waitWindow(ctx, o.Notify); err != nil {
				return StartResult{}, err
			}
		}
		res, lost, err := i.spawn(ctx, deadline)
		if !lost {
			return res, err
		}
		// Our server lost the pid file race: report the winner.
		if attempt >= 2 {
			return StartResult{}, exitcode.Newf(exitcode.Failure, "another start keeps taking the pid file %s, and its server does not stay", i.PIDFile)
		}
	}
}

// errJustStarted: a server of ours came up while we were looking.
var errJustStarted = errors.New("a server just started")

// portFree checks that nothing but a server of ours answers on the
// configured port before we start one there.
func (i *Instance) portFree(ctx context.Context) error {
	if !i.FixedPort() {
		return nil
	}
	addr := i.HealthAddr(0)
	h, err := i.Probe(ctx, addr, 2*time.Second)
	switch {
	case err == nil:
		if pid, ok := i.Running(); ok && pid == h.PID {
			return errJustStarted
		}
		return exitcode.Newf(exitcode.Listen, "another webui (pid %d, version %s) already answers on %s, but not the one whose pid file is %s; stop it, or choose another --addr",
			h.PID, h.Version, addr, i.PIDFile)
	case health.IsNotWebui(err):
		return exitcode.Newf(exitcode.Listen, "%s is taken by another program (it answers HTTP, but not as webui); choose another --addr", addr)
	case health.IsRefused(err):
		return nil
	default:
		// Something accepts connections there but does not answer.
		return exitcode.Newf(exitcode.Listen, "%s is taken: something accepts connections there but does not answer /health (%v); choose another --addr", addr, errors.Unwrap(err))
	}
}

// waitWindow sleeps until RestartDelay has passed since the last exit.
func (i *Instance) waitWindow(ctx context.Context, notify func(string)) error {
	last := i.LastExit()
	if last.IsZero() {
		return nil
	}
	d := time.Until(last.Add(i.RestartDelay))
	if d <= 0 {
		return nil
	}
	if notify != nil {
		notify(fmt.Sprintf("waiting %s: the last server exited %s ago, and Android kills a process started within its restart window (restart_delay %s)",
			d.Round(100*time.Millisecond), time.Since(last).Round(100*time.Millisecond), i.RestartDelay))
	}
	return schedule.Sleep(ctx, d)
}

// spawn starts `webui serve` detached and waits for it to answer. lost
// reports that it exited 4 because another server took the pid file.
func (i *Instance) spawn(ctx context.Context, deadline time.Time) (res StartResult, lost bool, err error) {
	if err := os.MkdirAll(i.LogDir, 0o700); err != nil {
		return StartResult{}, false, exitcode.Newf(exitcode.Usage, "cannot create the log dir %s: %v (set another with --log-dir)", i.LogDir, err)
	}
	if err := os.Remove(paths.Run(i.RunDir).Stopped()); err != nil && !notExist(err) {
		return StartResult{}, false, fmt.Errorf("remove the stopped marker: %w", err)
	}
	_ = i.TrimConsole()
	from := fileSize(paths.Log(i.LogDir).Console())
	argv := append([]string{i.Exe, "serve"}, i.ServeArgs...)
	pid, err := proc.Daemon(i.Exe, argv, i.serverEnv(), paths.Log(i.LogDir).Console())
	if err != nil {
		return StartResult{}, false, err
	}
	fail := func(code int, msg string) (StartResult, bool, error) {
		return StartResult{}, false, &StartError{Code: code, PID: pid, Msg: msg,
			Console: logfile.Last(paths.Log(i.LogDir).Console(), from, 20), Lifetime: i.lifetimeOf(pid)}
	}
	for {
		if !proc.Alive(pid) {
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			ws, werr := proc.Wait(wctx, pid)
			cancel()
			switch {
			case werr != nil:
				return fail(exitcode.Failure, fmt.Sprintf("the server (pid %d) is gone before it answered /health", pid))
			case ws.Signaled():
				res, lost, err := fail(exitcode.Failure, fmt.Sprintf("the server (pid %d) was killed by %s before it answered /health", pid, diag.SignalName(ws.Signal())))
				err.(*StartError).Signal = ws.Signal()
				return res, lost, err
			case ws.ExitStatus() == exitcode.Running:
				if other, ok := i.Running(); ok && other != pid {
					return StartResult{}, true, nil
				}
				fallthrough
			default:
				code := ws.ExitStatus()
				if code == 0 {
					code = exitcode.Failure
				}
				return fail(code, fmt.Sprintf("the server (pid %d) exited with code %d before it answered /health", pid, ws.ExitStatus()))
			}
		}
		if addr := i.HealthAddr(pid); !addr.IsZero() {
			if h, err := i.Probe(ctx, addr, probeTimeout(deadline)); err == nil && h.PID == pid {
				return StartResult{PID: pid, Addr: addr, Health: h}, false, nil
			}
		}
		if time.Now().After(deadline) {
			return fail(exitcode.Failure, fmt.Sprintf("the server (pid %d) did not answer /health within the wait; it is still running (see `webui ctl status`)", pid))
		}
		if err := schedule.Sleep(ctx, pollEvery); err != nil {
			return StartResult{}, false, err
		}
	}
}

// awaitRunning waits for a server that already runs to answer /health.
func (i *Instance) awaitRunning(ctx context.Context, pid int, deadline time.Time) (StartResult, error) {
	for {
		addr := i.HealthAddr(pid)
		if !addr.IsZero() {
			if h, err := i.Probe(ctx, addr, probeTimeout(deadline)); err == nil && h.PID == pid {
				return StartResult{PID: pid, Addr: addr, Health: h, Already: true}, nil
			}
		}
		if !proc.Alive(pid) {
			return StartResult{}, exitcode.Newf(exitcode.Failure, "the running server (pid %d) exited while we waited for it", pid)
		}
		if time.Now().After(deadline) {
			return StartResult{}, exitcode.Newf(exitcode.Failure, "webui is running (pid %d) but /health does not answer; see `webui ctl status`, or `webui ctl restart`", pid)
		}
		if err := schedule.Sleep(ctx, pollEvery); err != nil {
			return StartResult{}, err
		}
	}
}

// probeTimeout is a probe's share of what is left until deadline.
func probeTimeout(deadline time.Time) time.Duration {
	d := time.Until(deadline)
	switch {
	case d > 2*time.Second:
		return 2 * time.Second
	case d < 200*time.Millisecond:
		return 200 * time.Millisecond
	}
	return d
}

// restartOver: old has exited, its delayed restart's starter is done
// (no intent, no starter lock) and no server runs.
func (i *Instance) restartOver(old int) bool {
	if proc.Alive(old) {
		return false
	}
	if _, ok := schedule.ReadIntent(i.RunDir); ok || schedule.Held(i.RunDir) {
		return false
	}
	_, running := i.Running()
	return !running
}

// StopResult says what Stop did.
type StopResult struct {
	PID        int
	WasRunning bool
	// Killed: it did not stop within the timeout and got SIGKILL.
	Killed bool
	// Supervisor names who may start it again (runit, systemd), if /health
	// said one supervises it.
	Supervisor string
}

// Stop stops the server on purpose: it writes the stopped marker first (so
// the watchdog leaves it down from now on), announces intent for the
// server's exit record, and sends SIGTERM, then SIGKILL after timeout.
// Stopping a server that is not running is not an error.
func (i *Instance) Stop(ctx context.Context, timeout time.Duration, intent string) (StopResult, error) {
	if err := os.MkdirAll(i.RunDir, 0o700); err != nil {
		return StopResult{}, fmt.Errorf("run dir: %w", err)
	}
	marker := fmt.Sprintf("%s at %s by pid %d\n", intent, time.Now().UTC().Format(time.RFC3339), os.Getpid())
	if err := os.WriteFile(paths.Run(i.RunDir).Stopped(), []byte(marker), 0o600); err != nil {
		return StopResult{}, fmt.Errorf("write the stopped marker: %w", err)
	}
	pid, ok := i.Running()
	if !ok {
		return StopResult{}, nil
	}
	res := StopResult{PID: pid, WasRunning: true}
	if addr := i.HealthAddr(pid); !addr.IsZero() {
		if h, err := i.Probe(ctx, addr, time.Second); err == nil {
			if h.Platform.Supervised() {
				res.Supervisor = h.Platform.Supervisor
			}
		}
	}
	if err := diag.WriteIntent(i.RunDir, intent); err != nil {
		return res, fmt.Errorf("write intent: %w", err)
	}
	// A stopped (SIGSTOP) process cannot act on SIGTERM until it runs.
	_ = syscall.Kill(pid, syscall.SIGCONT)
	killed, err := proc.Terminate(ctx, pid, timeout)
	res.Killed = killed
	// A SIGKILLed server never took the intent; it must not label the next
	// lifetime's exit.
	_ = os.Remove(paths.Run(i.RunDir).Intent())
	if err != nil {
		return res, err
	}
	return res, nil
}

// RestartResult says how a restart went.
type RestartResult struct {
	StartResult
	OldPID int
	// Started: nothing was running, so this was a start.
	Started bool
}

// Restart asks a running server to restart through its restart engine
// (SIGUSR2; POST /api/restart is the HTTP twin) and waits until /health
// answers with a new started_at (the pid may stay: exec keeps it). A server
// that is not running is started instead.
func (i *Instance) Restart(ctx context.Context, o StartOptions) (RestartResult, error) {
	pid, ok := i.Running()
	if !ok {
		res, err := i.Start(ctx, o)
		return RestartResult{StartResult: res, Started: true}, err
	}
	if o.Wait <= 0 {
		o.Wait = 15 * time.Second
	}
	var before time.Time
	wait := o.Wait
	if addr := i.HealthAddr(pid); !addr.IsZero() {
		if h, err := i.Probe(ctx, addr, 2*time.Second); err == nil {
			before = h.StartedAt
			if h.Restart.Strategy == health.StrategyDelayed {
				// The starter waits out the kill window first, and may
				// retry: the whole schedule (it ends sooner if it gives up).
				wait += schedule.Lead + i.Schedule.Total()
			}
		}
	}
	if err := os.Remove(paths.Run(i.RunDir).Stopped()); err != nil && !notExist(err) {
		return RestartResult{}, fmt.Errorf("remove the stopped marker: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
		return RestartResult{}, fmt.Errorf("signal pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(wait)
	for {
		if cur, ok := i.Running(); ok {
			if addr := i.HealthAddr(cur); !addr.IsZero() {
				h, err := i.Probe(ctx, addr, probeTimeout(deadline))
				if err == nil && h.PID == cur && !h.StartedAt.Equal(before) {
					return RestartResult{StartResult: StartResult{PID: cur, Addr: addr, Health: h}, OldPID: pid}, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return RestartResult{OldPID: pid}, exitcode.Newf(exitcode.Failure,
				"no restarted server answered /health within %s (pid %d was asked with SIGUSR2); see `webui diagnose` and `webui ctl status`", wait, pid)
		}
		if i.restartOver(pid) {
			return RestartResult{OldPID: pid}, exitcode.Newf(exitcode.Failure,
				"the delayed restart of pid %d is over and no server runs (it gave up, or `ctl stop` ended it); see `webui diagnose` and `webui ctl status`", pid)
		}
		if err := schedule.Sleep(ctx, pollEvery); err != nil {
			return RestartResult{OldPID: pid}, err
		}
	}
}
