package ctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/restart"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// carryRestart sees a delayed restart through. The old server named who
// starts the next one in its intent record: the watchdog itself, which is
// long-lived and so outlives Android's kill window, or a helper. While a
// helper holds the starter lock, the watchdog waits for it (at most the
// schedule's Total) and starts nothing: one starter. A helper that is gone
// with the restart unfinished is taken over. exited is when the old
// server was seen to exit (zero: unknown, count from now).
func (w *Watchdog) carryRestart(ctx context.Context, in schedule.Intent, exited time.Time) {
	sched, err := schedule.Parse(in.Schedule)
	if err != nil {
		sched = w.inst.Schedule
	}
	if at, stopped := w.inst.Stopped(); stopped && !at.Before(in.At.Add(-time.Second)) {
		// `ctl stop` came after the restart was asked for: it wins.
		if !schedule.Held(w.inst.RunDir) {
			schedule.RemoveIntent(w.inst.RunDir, in.PID)
		}
		w.once("stopped", "the server was stopped on purpose (webui ctl stop) during its delayed restart: leaving it down")
		return
	}
	lock, err := schedule.TryLock(w.inst.RunDir)
	if errors.Is(err, schedule.ErrBusy) {
		w.act(fmt.Sprintf("a delayed restart of pid %d is under way: its helper (pid %d) starts the server; waiting for it to finish (at most %s)",
			in.PID, in.HelperPID, sched.Total().Round(time.Second)), nil)
		if lock = w.waitStarter(ctx, helperWaitLimit(sched)); lock == nil {
			return
		}
		if _, ok := schedule.ReadIntent(w.inst.RunDir); !ok {
			lock.Release()
			w.afterRestart(ctx, nil, "its helper")
			return
		}
		w.act(fmt.Sprintf("the helper of pid %d's delayed restart is gone before it finished: the watchdog takes over", in.PID), nil)
	} else if err != nil {
		w.act(fmt.Sprintf("delayed restart of pid %d: %v", in.PID, err), nil)
		return
	}
	defer lock.Release()
	argv, addr, record, bad := w.checkIntent(in)
	if bad != "" {
		w.act(fmt.Sprintf("the restart intent of pid %d %s: ignoring that part of it", in.PID, bad), nil)
	}
	due := exited
	if due.IsZero() {
		due = time.Now()
	}
	due = due.Add(sched.Delay)
	w.act(fmt.Sprintf("delayed restart of pid %d: the watchdog starts the server %s after its exit (schedule: %s)", in.PID, sched.Delay, sched), &due)
	con, err := os.OpenFile(paths.Log(w.inst.LogDir).Console(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		defer con.Close()
	}
	err = restart.RunHelper(ctx, restart.HelperOptions{
		Record: record, OldPID: in.PID, Schedule: sched, Health: addr, Argv: argv, Env: w.inst.serverEnv(),
		RunDir: w.inst.RunDir, StoppedFile: paths.Run(w.inst.RunDir).Stopped(), Since: in.At, Locked: true, By: schedule.ByWatchdog,
		Stdout: con, Stderr: con, Exited: exited, Logf: w.o.Logf,
	})
	if ctx.Err() != nil {
		return
	}
	w.afterRestart(ctx, err, "the watchdog")
}

// checkIntent takes from an intent record only what the watchdog would
// do itself: it starts its own binary as `serve` (else its own command
// line), asks a loopback /health, and appends to a lifetime record in the
// state dir. The run dir is the user's own, but a planted intent must not
// make the watchdog run or write anything else.
func (w *Watchdog) checkIntent(in schedule.Intent) (argv []string, addr health.Addr, record, bad string) {
	own := append([]string{w.inst.Exe, "serve"}, w.inst.ServeArgs...)
	argv = in.Argv
	switch {
	case len(argv) == 0:
		argv = own
	case !sameFile(argv[0], w.inst.Exe) || (len(argv) > 1 && argv[1] != "serve" && !strings.HasPrefix(argv[1], "-")):
		argv, bad = own, fmt.Sprintf("names a command other than this webui's server (%q)", in.Argv[0])
	}
	addr = w.inst.HealthAddr(0)
	if a, err := health.ParseURL(in.Health); err == nil && a.IsLoopback() {
		addr = a
	} else if in.Health != "" {
		bad = fmt.Sprintf("names a /health URL that is not on loopback (%q)", in.Health)
	}
	if rel, err := filepath.Rel(string(paths.State(w.inst.StateDir).Lifetimes()), in.Record); err == nil && !strings.Contains(rel, "/") && strings.HasSuffix(rel, paths.RecordExt) && !strings.HasPrefix(rel, ".") {
		record = in.Record
	} else if in.Record != "" {
		bad = fmt.Sprintf("names a record outside the state dir (%q)", in.Record)
	}
	return argv, addr, record, bad
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// helperWaitLimit is how long the watchdog leaves a delayed restart to its
// helper: the whole schedule, counted from the old server's exit, and a
// minute for a slow phone.
func helperWaitLimit(s schedule.Schedule) time.Duration { return s.Total() + time.Minute }

// afterRestart takes stock once a delayed restart is over.
func (w *Watchdog) afterRestart(ctx context.Context, err error, by string) {
	now := time.Now()
	if pid, ok := w.inst.Running(); ok && err == nil {
		w.fails, w.note, w.crashes, w.long = 0, "", 0, false
		w.outageStart, w.healthySince, w.lastOK, w.serverPID, w.mine = time.Time{}, now, now, pid, pid
		w.armPID(pid)
		w.act(fmt.Sprintf("delayed restart done (%s started it): server pid %d survived", by, pid), nil)
		return
	}
	if _, stopped := w.inst.Stopped(); stopped || errors.Is(err, restart.ErrStopped) {
		w.once("stopped", "the server was stopped on purpose (webui ctl stop) during its delayed restart: leaving it down")
		return
	}
	why := "it gave up"
	if err != nil {
		why = err.Error()
	}
	w.act(fmt.Sprintf("the delayed restart carried out by %s did not bring a server up (%s): handling it as a death", by, why), nil)
	w.deathAt, w.lastExit = now, now
	w.fails, w.outageStart, w.healthySince = w.o.Failures, now, time.Time{}
	w.down(ctx, errors.New("delayed restart failed: "+why))
}

// waitStarter blocks until the starter lock is free and returns it held,
// or nil once limit passed or ctx ended.
func (w *Watchdog) waitStarter(ctx context.Context, limit time.Duration) *schedule.Lock {
	got := make(chan *schedule.Lock, 1)
	diag.Go("watchdog restart lock", func() {
		l, _ := schedule.WaitLock(w.inst.RunDir)
		got <- l
	})
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case l := <-got:
		return l
	case <-ctx.Done():
	case <-t.C:
		w.act(fmt.Sprintf("the delayed restart's helper is still at work after %s: no longer waiting for it", limit.Round(time.Second)), nil)
	}
	diag.Go("watchdog restart lock release", func() { (<-got).Release() })
	return nil
}
