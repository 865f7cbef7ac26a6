package apps

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// The keeper's operations.
const (
	opInit     = "init"
	opStart    = "start"
	opStop     = "stop"
	opRestart  = "restart"
	opReload   = "reload"   // a new spec
	opBroken   = "broken"   // its file no longer loads
	opRemove   = "remove"   // its file is gone
	opShutdown = "shutdown" // StopAll
)

var errClosed = errors.New("apps: supervisor closed")

type command struct {
	op     string
	spec   Spec
	broken *FileError
	reply  chan error
}

// app is one app: its status (guarded by Supervisor.mu) and its keeper,
// the one goroutine that starts, adopts, stops and restarts its process.
type app struct {
	s       *Supervisor
	spec    Spec
	broken  *FileError
	st      Status
	changed chan struct{} // closed and replaced at each status change

	cmds chan command
	done chan struct{}

	// Owned by the keeper.
	inst     *instance
	failures int
	retry    *time.Timer
	pending  []chan error // Stop callers waiting for the exit
	rec      record
}

// addApp registers an app and starts its keeper, which waits for opInit;
// the caller holds s.mu.
func (s *Supervisor) addApp(spec Spec, broken *FileError) *app {
	a := &app{s: s, spec: spec, broken: broken, changed: make(chan struct{}),
		cmds: make(chan command, 8), done: make(chan struct{})}
	a.st = Status{Name: spec.Name, State: StateStarting}
	if broken != nil {
		a.st.State, a.st.Error = StateFailed, broken.Error()
	}
	s.apps[spec.Name] = a
	s.wg.Add(1)
	diag.Go("app keeper "+spec.Name, func() {
		defer s.wg.Done()
		defer close(a.done)
		a.loop()
	})
	return a
}

// snapshot is the status as callers see it; the caller holds s.mu.
func (a *app) snapshot() Status {
	st := a.st
	st.Kind, st.File = a.spec.Kind, a.spec.File
	if a.spec.Kind != "" {
		st.Route = a.spec.Route
	}
	if a.broken != nil {
		st.Error = a.broken.Error()
	}
	if st.State == StateRunning && st.Started != nil {
		st.Uptime = int64(time.Since(*st.Started) / time.Second)
	}
	return st
}

func (a *app) set(f func(st *Status)) {
	a.s.mu.Lock()
	f(&a.st)
	close(a.changed)
	a.changed = make(chan struct{})
	a.s.mu.Unlock()
}

// post hands the keeper a command without waiting for its outcome.
func (a *app) post(c command) error {
	select {
	case a.cmds <- c:
		return nil
	case <-a.done:
		return errClosed
	case <-a.s.quit:
		return errClosed
	}
}

func (a *app) send(c command) error { return a.sendCtx(context.Background(), c) }

// sendCtx hands the keeper a command and waits for its outcome.
func (a *app) sendCtx(ctx context.Context, c command) error {
	c.reply = make(chan error, 1)
	if err := a.post(c); err != nil {
		return err
	}
	select {
	case err := <-c.reply:
		return err
	case <-a.done:
		return errClosed
	case <-a.s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *app) loop() {
	for {
		var died <-chan exitInfo
		var ready <-chan error
		var unhealthy <-chan struct{}
		var killC, retryC <-chan time.Time
		if a.inst != nil {
			died, ready, unhealthy, killC = a.inst.died, a.inst.ready, a.inst.unhealthy, a.inst.killC
		}
		if a.retry != nil {
			retryC = a.retry.C
		}
		select {
		case <-a.s.quit:
			if a.inst != nil {
				a.inst.cancel() // the process runs on; its watcher stays blocked
			}
			return
		case c := <-a.cmds:
			if a.handle(c) {
				return
			}
		case ex := <-died:
			if a.exited(ex) {
				return
			}
		case err := <-ready:
			a.readyOrNot(err)
		case <-unhealthy:
			a.stopInst("health", "")
		case <-killC:
			a.inst.killC = nil
			_ = signalGroup(a.inst.pid, syscall.SIGKILL)
		case <-retryC:
			a.retry = nil
			a.startNow()
		}
	}
}

// handle runs one command; true ends the keeper.
func (a *app) handle(c command) bool {
	replied := false
	reply := func(err error) {
		if c.reply != nil && !replied {
			c.reply <- err
		}
		replied = true
	}
	defer reply(nil) // every command is answered once it is handled, Stop's at the exit
	switch c.op {
	case opInit:
		a.initial()
	case opStart:
		a.rec.Stopped = false
		a.saveRecord()
		switch {
		case a.inst == nil:
			a.failures = 0
			a.cancelRetry()
			a.startNow()
		case a.inst.then == opStop || a.inst.then == opShutdown:
			a.inst.then = opRestart // being stopped: it comes back
		}
		reply(a.startErr())
	case opStop, opShutdown:
		if c.op == opStop {
			a.rec.Stopped = true
			a.saveRecord()
		}
		a.cancelRetry()
		if a.inst == nil {
			a.set(func(st *Status) { st.State, st.NextTry = StateStopped, nil })
			reply(nil)
			return false
		}
		if c.reply != nil {
			a.pending = append(a.pending, c.reply)
			replied = true
		}
		then := opStop
		if c.op == opShutdown {
			then = opShutdown
		}
		a.stopInst("stop", then)
	case opRestart:
		a.rec.Stopped = false
		a.saveRecord()
		a.cancelRetry()
		if a.inst == nil {
			a.failures = 0
			a.startNow()
			reply(a.startErr())
			return false
		}
		a.stopInst("restart", opRestart)
		reply(nil)
	case opReload:
		wasBroken := a.broken != nil || a.spec.Kind == ""
		a.s.mu.Lock()
		a.spec, a.broken = c.spec, nil
		a.s.mu.Unlock()
		switch {
		case a.inst != nil && a.inst.hash != specHash(c.spec):
			a.stopInst("reload", opRestart)
		case a.inst != nil, a.retry != nil:
			a.set(func(st *Status) { st.SpecChanged = false }) // the next start takes the new spec
		case wasBroken || c.spec.Kind != Process && a.st.State == StateRunning:
			a.initial()
		default:
			a.set(func(st *Status) {}) // stopped or failed: it stays so
		}
	case opBroken:
		a.s.mu.Lock()
		a.broken = c.broken
		a.s.mu.Unlock()
		if a.inst == nil && a.retry == nil {
			a.set(func(st *Status) { st.State = StateFailed })
		} else {
			a.set(func(st *Status) {})
		}
	case opRemove:
		a.cancelRetry()
		if a.inst == nil {
			return true
		}
		a.stopInst("reload", opRemove)
	}
	return false
}

func (a *app) startErr() error {
	if a.st.State == StateFailed || a.st.State == StateBackoff && a.st.Error != "" {
		return fmt.Errorf("app %s: %s", a.spec.Name, a.st.Error)
	}
	return nil
}

// initial brings a fresh app to life: adopt its process if one runs, stay
// stopped if the user stopped it, else start it.
func (a *app) initial() {
	if a.broken != nil {
		a.set(func(st *Status) { st.State = StateFailed })
		return
	}
	if a.spec.Kind != Process {
		a.set(func(st *Status) { st.State, st.PID, st.Port = StateRunning, 0, 0 })
		return
	}
	a.rec = a.s.readRecord(a.spec.Name)
	if inst := a.adopt(a.spec, a.rec); inst != nil {
		a.inst = inst
		a.s.log.WithField("app", a.spec.Name).WithField("pid", inst.pid).Info("app adopted")
		started := inst.started
		a.set(func(st *Status) {
			st.State, st.PID, st.Port, st.Started, st.Restarts = StateStarting, inst.pid, inst.port, &started, a.rec.Restarts
			st.SpecChanged = inst.hash != specHash(a.spec)
		})
		return
	}
	if a.rec.Stopped {
		a.set(func(st *Status) { st.State, st.Restarts = StateStopped, a.rec.Restarts })
		return
	}
	a.startNow()
}

func (a *app) cancelRetry() {
	if a.retry != nil {
		a.retry.Stop()
		a.retry = nil
	}
}

// startNow spawns the process; a spawn that fails counts as a failure.
func (a *app) startNow() {
	if a.spec.Kind != Process {
		a.set(func(st *Status) { st.State, st.NextTry = StateRunning, nil })
		return
	}
	inst, err := a.spawn(a.spec, a.rec.Port)
	if err != nil {
		a.s.log.WithError(err).WithField("app", a.spec.Name).Warn("app start failed")
		a.failed(fmt.Sprintf("start: %v", err))
		return
	}
	a.inst = inst
	if a.rec.PID != 0 || a.st.LastVerdict != "" {
		a.rec.Restarts++
	}
	a.rec.PID, a.rec.StartTicks, a.rec.Port, a.rec.Hash, a.rec.Started = inst.pid, inst.ticks, inst.port, inst.hash, inst.started
	a.saveRecord()
	a.s.appendLife(a.spec.Name, Lifetime{PID: inst.pid, StartTicks: inst.ticks, StartedAt: inst.started, Port: inst.port})
	a.s.log.WithField("app", a.spec.Name).WithField("pid", inst.pid).WithField("port", inst.port).Info("app started")
	started := inst.started
	a.set(func(st *Status) {
		st.State, st.PID, st.Port, st.Started, st.NextTry, st.Error = StateStarting, inst.pid, inst.port, &started, nil, ""
		st.Restarts, st.SpecChanged = a.rec.Restarts, false
	})
}

func (a *app) saveRecord() {
	if a.spec.Kind != Process {
		return
	}
	if err := a.s.writeRecord(a.spec.Name, a.rec); err != nil {
		a.s.log.WithError(err).WithField("app", a.spec.Name).Warn("app record")
	}
}

func (a *app) readyOrNot(err error) {
	inst := a.inst
	if err != nil {
		a.s.log.WithField("app", a.spec.Name).WithError(err).Warn("app not ready; restarting it")
		a.stopInst("start_timeout", "")
		return
	}
	inst.readyAt = time.Now()
	a.set(func(st *Status) { st.State = StateRunning })
	a.liveness(inst)
}

// stopInst asks the process to end: its stop signal now, SIGKILL after its
// stop timeout. then is what follows the exit ("" = the restart policy).
func (a *app) stopInst(reason, then string) {
	inst := a.inst
	if inst.reason == "" || then != "" {
		inst.reason, inst.then = reason, then
	}
	if inst.killC != nil {
		return // already stopping: the first stop's SIGKILL deadline holds
	}
	_ = signalGroup(inst.pid, inst.spec.StopSignal)
	inst.killC = time.After(inst.spec.StopTimeout)
}

// exited records the process's end and decides what comes next; true ends
// the keeper (the app was removed).
func (a *app) exited(ex exitInfo) bool {
	inst := a.inst
	a.inst = nil
	inst.cancel()
	lived := ex.at.Sub(inst.started)
	end := ex.at
	lt := Lifetime{PID: inst.pid, StartTicks: inst.ticks, StartedAt: inst.started, EndedAt: &end,
		LivedS: lived.Seconds(), Port: inst.port, Tail: tail(a.s.LogFile(inst.spec.Name), 20)}
	judge(&lt, ex.ws, inst.reason, a.s.cfg.Android, a.s.cfg.RestartDelay)
	a.s.appendLife(inst.spec.Name, lt)
	a.s.log.WithField("app", inst.spec.Name).WithField("pid", inst.pid).WithField("verdict", lt.Verdict).Info("app exited: " + lt.Summary)
	a.rec.PID, a.rec.StartTicks = 0, 0
	a.saveRecord()
	a.set(func(st *Status) { st.PID, st.Started, st.LastVerdict = 0, nil, lt.Verdict })
	defer func() { // Stop returns once the state says so
		for _, r := range a.pending {
			r <- nil
		}
		a.pending = nil
	}()

	switch inst.then {
	case opRemove:
		return true
	case opStop, opShutdown:
		a.set(func(st *Status) { st.State = StateStopped })
		return false
	case opRestart:
		a.failures = 0
		a.schedule(0)
		return false
	}
	// It ended on its own, or failed its health or start.
	if !inst.readyAt.IsZero() && ex.at.Sub(inst.readyAt) >= a.s.cfg.StableAfter {
		a.failures = 0
	}
	clean := lt.Verdict == VerdictCleanExit
	switch {
	case a.spec.Restart == RestartNever || clean && a.spec.Restart == RestartOnFailure:
		state := StateStopped
		if !clean {
			state = StateFailed
		}
		a.set(func(st *Status) { st.State, st.Error = state, "" })
		if !clean {
			a.set(func(st *Status) { st.Error = "restart = " + a.spec.Restart + ": " + lt.Summary })
		}
		return false
	}
	a.failed(lt.Summary)
	return false
}

// failed counts one more failure in a row and schedules the next start
// after the backoff, or gives up past MaxFailures.
func (a *app) failed(why string) {
	a.failures++
	if max := a.s.cfg.MaxFailures; max > 0 && a.failures > max {
		a.set(func(st *Status) {
			st.State, st.NextTry = StateFailed, nil
			st.Error = fmt.Sprintf("gave up after %d failures in a row; the last: %s (webui app start %s tries again)", a.failures-1, why, a.spec.Name)
		})
		return
	}
	a.set(func(st *Status) { st.Error = why })
	a.schedule(schedule.Backoff{Base: a.s.cfg.BackoffBase, Max: a.s.cfg.BackoffMax}.Delay(a.failures))
}

// schedule starts the process after d; on Android never sooner than
// RestartDelay after the exit that led here.
func (a *app) schedule(d time.Duration) {
	if a.s.cfg.Android {
		d = max(d, a.s.cfg.RestartDelay)
	}
	if d <= 0 {
		a.startNow()
		return
	}
	next := time.Now().Add(d)
	a.retry = time.NewTimer(d)
	a.set(func(st *Status) { st.State, st.NextTry = StateBackoff, &next })
}
