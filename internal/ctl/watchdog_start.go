package ctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// startWhenDue starts the server once the kill window and the backoff
// allow, retrying failed starts on the backoff schedule.
func (w *Watchdog) startWhenDue(ctx context.Context) {
	for ctx.Err() == nil {
		due, why := w.due()
		if d := time.Until(due); d > 0 {
			w.act(fmt.Sprintf("next start in %s: %s", d.Round(time.Millisecond), why), &due)
			if !w.waitUntil(ctx, due) {
				return
			}
		}
		if w.start(ctx) {
			return
		}
		if _, held := w.inst.Running(); held {
			return // it runs but did not answer: the next ticks judge it
		}
	}
}

// due is the earliest time the next start may come, and why.
func (w *Watchdog) due() (time.Time, string) {
	var due time.Time
	why := ""
	if w.inst.Android && !w.lastExit.IsZero() {
		due = w.lastExit.Add(w.inst.RestartDelay)
		why = fmt.Sprintf("Android kills a process started within restart_delay (%s) of the last exit", w.inst.RestartDelay)
	}
	d := w.o.Backoff.Delay(w.crashes)
	if w.long {
		d = w.o.Backoff.Max
	}
	if t := w.lastFail.Add(d); d > 0 && t.After(due) {
		due = t
		why = fmt.Sprintf("backing off after %d failed starts in a row", w.crashes)
		if w.long {
			why = "the last start failed with a config error or a taken port: retrying slowly (a change to the config file retries now)"
		}
	}
	return due, why
}

// waitUntil waits for due, one interval at a time. It returns false when
// the start is off: ctx ended, the server was stopped on purpose, or
// someone else started it.
func (w *Watchdog) waitUntil(ctx context.Context, due time.Time) bool {
	for {
		d := min(w.o.Interval, time.Until(due))
		if d <= 0 {
			return true
		}
		if schedule.Sleep(ctx, d) != nil {
			return false
		}
		if _, stopped := w.inst.Stopped(); stopped {
			w.once("stopped", "the server was stopped on purpose (webui ctl stop): leaving it down")
			return false
		}
		if h, err := w.probe(ctx); err == nil {
			w.act(fmt.Sprintf("server pid %d answers (someone else started it): not starting one", h.PID), nil)
			w.healthy(h, time.Now())
			return false
		}
		if w.long && w.o.ConfigFile != "" && !modTime(w.o.ConfigFile).Equal(w.failedCfg) {
			w.act("the config file changed: starting now", nil)
			w.reload()
			return true
		}
	}
}

// start starts the server; false when that failed.
func (w *Watchdog) start(ctx context.Context) bool {
	t0 := time.Now()
	cfgTime := modTime(w.o.ConfigFile) // as the server is about to read it
	res, err := w.inst.Start(ctx, StartOptions{Wait: w.o.StartWait, IgnoreWindow: true})
	if ctx.Err() != nil {
		return false
	}
	w.recordStart(t0, res, err)
	now := time.Now()
	if err == nil {
		w.fails, w.note = 0, ""
		w.healthySince, w.lastOK, w.serverPID, w.outageStart = now, now, res.PID, time.Time{}
		if res.Already {
			w.act(fmt.Sprintf("server pid %d answers (someone else started it)", res.PID), nil)
			return true
		}
		w.mine = res.PID
		w.armPID(res.PID)
		w.act(fmt.Sprintf("started server pid %d: /health answered after %s", res.PID, now.Sub(t0).Round(time.Millisecond)), nil)
		if _, stopped := w.inst.Stopped(); stopped {
			// `ctl stop` ran while we started it: it found nothing to stop.
			if _, err := w.inst.Stop(ctx, w.o.KillAfter, "ctl stop"); err != nil {
				w.act(fmt.Sprintf("stop server pid %d: %v", res.PID, err), nil)
			}
			w.once("stopped", fmt.Sprintf("server pid %d was stopped on purpose while the watchdog started it: stopped it, leaving it down", res.PID))
		}
		return true
	}
	w.crashes++
	w.lastFail, w.lastExit, w.failedCfg = now, now, cfgTime
	code := exitcode.Of(err)
	w.long = code == exitcode.Usage || code == exitcode.Listen
	msg := err.Error()
	var se *StartError
	if errors.As(err, &se) {
		w.mine = se.PID
		switch {
		case se.Lifetime != nil && w.o.Describe != nil:
			msg += "; " + w.o.Describe(*se.Lifetime)
		case len(se.Console) > 0:
			msg += "; console: " + se.Console[len(se.Console)-1]
		}
	}
	w.act(fmt.Sprintf("start failed (%d in a row, exit %d): %s", w.crashes, code, msg), nil)
	return false
}

// recordStart notes a start after a death in the dead server's record, as
// a restart helper does, so `webui diagnose` names a start that Android
// killed in its restart window killed_in_restart_window, whoever started
// it.
func (w *Watchdog) recordStart(t0 time.Time, res StartResult, err error) {
	rec := diag.RecordOf(w.inst.StateDir, w.serverPID)
	if rec == "" || w.serverPID == 0 || res.Already {
		return
	}
	pid := res.PID
	var se *StartError
	if errors.As(err, &se) {
		pid = se.PID
	}
	if pid == 0 || pid == w.serverPID {
		return
	}
	_ = diag.AppendEvent(rec, diag.Event{Event: diag.EvHelper, Step: "spawned", PID: pid, By: schedule.ByWatchdog, T: t0.UTC()})
	if se != nil && se.Signal != 0 {
		_ = diag.AppendEvent(rec, diag.Event{Event: diag.EvHelper, Step: "killed", PID: pid, By: schedule.ByWatchdog, Signal: int(se.Signal),
			Detail: fmt.Sprintf("pid %d killed by %s before it answered /health", pid, diag.SignalName(se.Signal))})
	}
}
