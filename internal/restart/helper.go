package restart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// HelperOptions drive a delayed restart's starter: `webui restart-helper`,
// the detached process the old server execs early enough to outlive its
// exit, or the watchdog, which runs the same code in its own process.
type HelperOptions struct {
	Record   string // the old lifetime's record: every step is appended to it
	OldPID   int    // wait for this pid to be gone
	Schedule schedule.Schedule
	Health   health.Addr // where the new server answers /health
	Argv     []string    // the server command, argv[0] an absolute path
	Env      []string
	Strace   string // strace binary, "" = no strace
	// RunDir holds the intent and the starter lock; "" skips both.
	RunDir string
	// StoppedFile is `ctl stop`'s marker: once it is newer than Since (the
	// restart's request; zero: when RunHelper began), nothing more is
	// started.
	StoppedFile string
	Since       time.Time
	// Locked: the caller already holds the starter lock.
	Locked bool
	// By names the starter in the record (schedule.ByHelper by default).
	By string
	// Stdout and Stderr receive the server's output (nil: ours).
	Stdout, Stderr *os.File
	// Exited is when the old process was seen to exit (zero: when this
	// helper sees it gone); the schedule counts from it.
	Exited time.Time
	// Wait bounds waiting for the old process (default 2 minutes).
	Wait time.Duration
	Logf func(format string, a ...any)
}

// ErrStopped: `ctl stop` ended the restart; nothing was (or stays) started.
var ErrStopped = errors.New("stopped on purpose (webui ctl stop): nothing started")

// RunHelper waits for the old process to go, then carries out the
// schedule: it starts the server after the delay and confirms it is
// healthy and still alive after Survive. A server that gets killed is
// retried; one that exits with a code saying a retry cannot help (bad
// config, port in use, already running), or exits 0 (someone stopped it),
// is not. Nothing is started once `ctl stop` has run.
func RunHelper(ctx context.Context, o HelperOptions) error {
	if o.By == "" {
		o.By = schedule.ByHelper
	}
	ev := func(step string, e diag.Event) {
		e.Event, e.Step, e.By, e.T = diag.EvHelper, step, o.By, time.Now().UTC()
		if err := diag.AppendEvent(o.Record, e); err != nil && o.Logf != nil && o.Record != "" {
			o.Logf("restart-helper: record %s: %v", step, err)
		}
		if o.Logf != nil {
			b, _ := json.Marshal(e)
			o.Logf("restart-helper: %s %s", step, b)
		}
	}
	if o.Wait == 0 {
		o.Wait = 2 * time.Minute
	}
	s := o.Schedule
	began := time.Now()
	ev("started", diag.Event{OldPID: o.OldPID, DelayS: s.Delay.Seconds(), SurviveS: s.Survive.Seconds(),
		Attempts: s.Attempts, CapS: s.Cap.Seconds()})
	if o.RunDir != "" {
		if !o.Locked {
			l, err := schedule.TryLock(o.RunDir)
			if err != nil {
				ev("gave-up", diag.Event{Detail: err.Error()})
				return err
			}
			defer l.Release()
		}
		// Done, or given up: the intent goes. Interrupted (SIGTERM): it
		// stays, so a watchdog started later takes the restart over.
		defer func() {
			if ctx.Err() == nil {
				schedule.RemoveIntent(o.RunDir, o.OldPID)
			}
		}()
	}
	since := o.Since
	if since.IsZero() {
		since = began
	}
	stopped := func() bool {
		st, err := os.Stat(o.StoppedFile)
		return o.StoppedFile != "" && err == nil && !st.ModTime().Before(since.Add(-time.Second))
	}

	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	err := proc.WaitGone(wctx, o.OldPID, 10*time.Millisecond)
	cancel()
	if err != nil {
		ev("gave-up", diag.Event{Detail: fmt.Sprintf("old pid %d still running after %s", o.OldPID, o.Wait)})
		return fmt.Errorf("old process %d did not exit", o.OldPID)
	}
	gone := time.Now()
	if !o.Exited.IsZero() && o.Exited.Before(gone) {
		gone = o.Exited
	}
	ev("old-gone", diag.Event{OldPID: o.OldPID})

	var result error
	try := func(attempt int) schedule.Verdict {
		if stopped() {
			ev("gave-up", diag.Event{Attempt: attempt, Detail: ErrStopped.Error()})
			result = ErrStopped
			return schedule.Done
		}
		ev("delay-done", diag.Event{Attempt: attempt, DelayS: s.Wait(attempt).Seconds(), SinceOldExitS: time.Since(gone).Seconds()})
		path, argv := o.Argv[0], o.Argv
		if o.Strace != "" {
			out := paths.RestartTrace(o.Record, attempt)
			argv = append([]string{o.Strace, "-f", "-ttt", "-T", "-s", "256", "-o", out, "--"}, o.Argv...)
			path = o.Strace
		}
		stdout, stderr := o.Stdout, o.Stderr
		if stdout == nil {
			stdout, stderr = os.Stdout, os.Stderr
		}
		started := time.Now()
		pid, err := proc.Spawn(path, argv, proc.Attr{Env: o.Env, Stdout: stdout, Stderr: stderr, Setsid: true})
		if err != nil {
			ev("gave-up", diag.Event{Attempt: attempt, Detail: "spawn: " + err.Error()})
			result = err
			return schedule.Done
		}
		ev("spawned", diag.Event{PID: pid, Attempt: attempt, Strace: o.Strace != ""})
		if stopped() {
			// `ctl stop` ran as we started it and found nothing to stop.
			_, _ = proc.Terminate(ctx, pid, 10*time.Second)
			ev("gave-up", diag.Event{PID: pid, Attempt: attempt, Detail: ErrStopped.Error() + " (stopped the server started as it ran)"})
			result = ErrStopped
			return schedule.Done
		}
		out := confirm(ctx, pid, o.Health, s.Survive, s.AttemptLimit())
		switch {
		case out.survived:
			ev("survived", diag.Event{PID: pid, Attempt: attempt, HealthyAfterS: out.healthyAfter.Seconds(),
				SinceOldExitS: time.Since(gone).Seconds()})
			result = nil
			return schedule.Done
		case out.dead && out.status.Signaled():
			ev("killed", diag.Event{PID: pid, Attempt: attempt, Signal: int(out.status.Signal()),
				Detail: fmt.Sprintf("pid %d killed by %s %s after it started", pid, diag.SignalName(out.status.Signal()), time.Since(started).Round(time.Millisecond))})
			result = fmt.Errorf("pid %d was killed", pid)
		case out.dead:
			code := out.status.ExitStatus()
			detail := fmt.Sprintf("pid %d exited with code %d", pid, code)
			switch {
			case code == exitcode.OK || stopped():
				ev("gave-up", diag.Event{PID: pid, Attempt: attempt, Code: code, Detail: detail + ": it was stopped, not killed; not starting another"})
				result = ErrStopped
				return schedule.Done
			case code == exitcode.Usage || code == exitcode.Listen || code == exitcode.Running:
				ev("gave-up", diag.Event{PID: pid, Attempt: attempt, Code: code, Detail: detail + ": a retry cannot help"})
				result = errors.New(detail)
				return schedule.Done
			}
			ev("failed", diag.Event{PID: pid, Attempt: attempt, Code: code, Detail: detail})
			result = errors.New(detail)
		default:
			// Alive but not healthy in time: leave it to the watchdog
			// rather than start a second one.
			ev("unhealthy", diag.Event{PID: pid, Attempt: attempt, Detail: "alive but /health did not answer in time"})
			result = fmt.Errorf("pid %d is not healthy", pid)
			return schedule.Done
		}
		if attempt < s.Attempts {
			ev("retrying", diag.Event{Attempt: attempt + 1, DelayS: s.Wait(attempt + 1).Seconds()})
		}
		return schedule.Retry
	}
	n, done, err := s.Run(ctx, gone, time.Now, schedule.Sleep, try)
	if err != nil {
		return err
	}
	if !done {
		ev("gave-up", diag.Event{Detail: fmt.Sprintf("no attempt survived (%d tries)", n)})
		return fmt.Errorf("restart failed after %d attempts", n)
	}
	return result
}

type outcome struct {
	survived     bool
	dead         bool
	status       syscall.WaitStatus
	healthyAfter time.Duration
}

// confirm waits for pid to answer /health and to be alive survive after
// it started, giving up after limit. The starter is its parent, so a death
// is seen with its status.
func confirm(ctx context.Context, pid int, addr health.Addr, survive, limit time.Duration) outcome {
	start := time.Now()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, Proxy: nil}}
	defer client.CloseIdleConnections()
	deadline := start.Add(limit)
	var healthy time.Duration
	done, cancel := context.WithCancel(ctx)
	cancel() // a Wait on a done context only looks
	for time.Now().Before(deadline) {
		if st, err := proc.Wait(done, pid); err == nil {
			return outcome{dead: true, status: st}
		}
		if healthy == 0 {
			if _, err := health.Probe(ctx, client, addr, time.Second); err == nil {
				healthy = time.Since(start)
			}
		}
		if healthy > 0 && time.Since(start) >= survive {
			return outcome{survived: true, healthyAfter: healthy}
		}
		if schedule.Sleep(ctx, 25*time.Millisecond) != nil {
			break
		}
	}
	return outcome{}
}
