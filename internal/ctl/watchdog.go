package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/google/renameio/v2"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// WatchdogOptions tune the watchdog. Zero values take the defaults of
// `webui watchdog`.
type WatchdogOptions struct {
	// Interval is between /health probes (30s). They only catch a hung
	// server: a death is seen at once through the pid file lock.
	Interval time.Duration
	Timeout  time.Duration // one probe's limit (3s)
	Failures int           // consecutive failed probes before acting (2)
	// StartWait is a start's wait for /health; a server whose pid file is
	// younger than this counts as starting, not hung (15s).
	StartWait time.Duration
	// KillAfter: a hung server gets SIGTERM, and SIGKILL this much later (10s).
	KillAfter time.Duration
	// StableAfter: healthy this long resets the backoff (60s).
	StableAfter time.Duration
	Backoff     schedule.Backoff
	// ConfigFile is watched while a config error or a taken port holds
	// starts back: a change retries at once.
	ConfigFile string
	// Reload re-reads the settings before the watchdog acts (nil: never).
	Reload func() (*Instance, error)
	// Logf receives one line per action.
	Logf func(format string, a ...any)
	// Describe turns a lifetime into one line (app.Line).
	Describe func(diag.Lifetime) string
	// Restarts and PrevExit come from webui-watchdog-loop: how many times
	// it restarted the watchdog, and how the previous one exited.
	Restarts int
	PrevExit string
}

func (o *WatchdogOptions) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.Interval, 30*time.Second)
	set(&o.Timeout, 3*time.Second)
	set(&o.StartWait, 15*time.Second)
	set(&o.KillAfter, 10*time.Second)
	set(&o.StableAfter, time.Minute)
	if o.Failures <= 0 {
		o.Failures = 2
	}
	if o.Backoff.Base <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Backoff.Max < o.Backoff.Base {
		o.Backoff.Max = o.Backoff.Base
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Watchdog keeps one server up. It learns of the server's death the
// moment it happens (a blocking flock on the server's pid file, see
// deathWatch) and polls /health only to catch a hang, acting after
// Failures failed probes in a row. What it does:
//
//   - stopped on purpose (the webui.stopped marker): leaves it down;
//   - exited for a delayed restart (the intent record): carries the
//     restart out on its schedule, or waits while the helper named in the
//     intent does (carryRestart);
//   - alive but not answering (hung, SIGSTOPped): SIGUSR1 so the server
//     records a stack dump, SIGTERM, SIGKILL after KillAfter, then a start;
//   - gone: a start, unless runit or systemd supervises the server.
//
// Starts go through Instance.Start, the path `ctl start` takes. On Android
// a start never comes sooner than restart_delay after the last exit seen. A
// crash loop backs off exponentially (Backoff), and a start that fails with
// a config error (exit 2) or a taken port (exit 3) waits the longest delay
// at once, unless the config file changes; crashLoopCounts says which
// deaths count. Idle, the watchdog costs one HTTP GET per interval on a
// kept-alive connection and a thread blocked in flock(2).
type Watchdog struct {
	inst *Instance
	o    WatchdogOptions

	fails             int       // consecutive failed probes
	outageStart       time.Time // the first failed probe of this outage
	outageAfterStable bool      // the server had been stable when it went
	healthySince      time.Time
	lastOK            time.Time
	serverPID         int    // the pid that last answered
	supervisor        string // runit or systemd, if /health said one supervises it
	mine              int    // the server we started last
	crashes           int    // consecutive starts that failed or did not last
	long              bool   // the last failure needs a fix, not a retry
	lastFail          time.Time
	lastExit          time.Time
	failedCfg         time.Time // the config file's mtime when the last failed start began
	note              string    // the condition logged last, to log it once
	configErr         string
	trimmed           time.Time // console.log was last checked for size
	reported          time.Time // the outage last reported as "down"
	addrPID           int
	addr              health.Addr
	deaths            *deathWatch
	watching          int       // the pid the death watch waits for
	deathAt           time.Time // when the death watch saw the last death
}

// NewWatchdog makes a watchdog for inst. It gives inst a prober that
// keeps its connection.
func NewWatchdog(inst *Instance, o WatchdogOptions) *Watchdog {
	o.defaults()
	inst.Prober = &health.Prober{}
	return &Watchdog{inst: inst, o: o}
}

// Run watches until ctx ends (SIGTERM), then returns nil. Only one
// watchdog runs per run dir: a second returns exit code 4 (Running).
func (w *Watchdog) Run(ctx context.Context) error {
	if err := os.MkdirAll(w.inst.RunDir, 0o700); err != nil {
		return exitcode.Newf(exitcode.Usage, "cannot create the run dir %s: %v (set another with --run-dir)", w.inst.RunDir, err)
	}
	pf, err := proc.Acquire(paths.Run(w.inst.RunDir).WatchdogPID())
	if err != nil {
		var le *proc.LockedError
		if errors.As(err, &le) {
			return exitcode.Newf(exitcode.Running, "a watchdog already runs (pid %d)", le.PID)
		}
		return err
	}
	defer pf.Release()
	how := "watchdog started"
	if w.o.Restarts > 0 {
		how = fmt.Sprintf("watchdog started again by webui-watchdog-loop (restart %d; the previous one exited with %s)", w.o.Restarts, w.o.PrevExit)
	}
	addr := w.inst.HealthAddr(0)
	if addr.IsZero() {
		addr = w.inst.Addr
	}
	w.act(fmt.Sprintf("%s: watching the server's pid file lock for its death; polling http://%s/health every %s for hangs (timeout %s), acting after %d failures",
		how, addr, w.o.Interval, w.o.Timeout, w.o.Failures), nil)
	w.deaths = newDeathWatch(w.inst.PIDFile)
	started := pidFileChanges(filepath.Dir(w.inst.PIDFile), filepath.Base(w.inst.PIDFile))
	// A delayed restart that the previous watchdog (or a helper that
	// died) left unfinished.
	if in, ok := schedule.ReadIntent(w.inst.RunDir); ok && !proc.Alive(in.PID) {
		w.carryRestart(ctx, in, time.Time{})
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for ctx.Err() == nil {
		w.arm()
		select {
		case <-ctx.Done():
		case d := <-w.deaths.died:
			w.watching = 0
			w.died(ctx, d)
		case <-started: // a server wrote its pid file: arm on it
		case <-t.C:
			w.tick(ctx)
			t.Reset(w.o.Interval)
		}
	}
	w.act("watchdog stopped", nil)
	return nil
}

// arm has the death watch wait for the running server, if one runs and
// it is not watched yet. While one is watched, the pid file is left
// alone: reading it on every tick was ten system calls for nothing.
func (w *Watchdog) arm() {
	if w.watching != 0 {
		return
	}
	if pid, ok := w.inst.Running(); ok {
		w.armPID(pid)
	}
}

// armPID watches pid, a server known to have run a moment ago: if it died
// since, the death watch fires at once.
func (w *Watchdog) armPID(pid int) {
	if w.watching != 0 || w.deaths == nil {
		return // the pending event names the old pid; died() sees the new one
	}
	w.watching = pid
	w.deaths.arm <- pid
}

// died acts on a server's death the moment it happens: a delayed restart
// it asked for is carried out (or left to its helper); any other death is
// an outage, handled at once rather than after failed probes.
func (w *Watchdog) died(ctx context.Context, d death) {
	if in, ok := schedule.ReadIntent(w.inst.RunDir); ok && in.PID == d.pid {
		w.carryRestart(ctx, in, d.at) // it also knows a stop
		return
	}
	if _, stopped := w.inst.Stopped(); stopped {
		w.once("stopped", "the server was stopped on purpose (webui ctl stop): leaving it down")
		return
	}
	if _, held := w.inst.Running(); held {
		return // another server took over (an exec, a start by someone else)
	}
	w.deathAt, w.serverPID = d.at, d.pid
	w.fails = w.o.Failures
	w.outageStart = d.at
	w.healthySince = time.Time{}
	w.down(ctx, fmt.Errorf("server pid %d died (its pid file lock was released)", d.pid))
}

// tick probes once and acts when the failures add up.
func (w *Watchdog) tick(ctx context.Context) {
	h, err := w.probe(ctx)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	if err == nil {
		w.healthy(h, now)
		return
	}
	w.fails++
	if w.fails == 1 {
		w.outageStart = now
		w.outageAfterStable = w.stable(now)
		w.healthySince = time.Time{}
	}
	if w.fails >= w.o.Failures {
		w.down(ctx, err)
	}
}

// probe asks /health at the address of the server as last known.
func (w *Watchdog) probe(ctx context.Context) (*health.Doc, error) {
	addr := w.healthAddr()
	if addr.IsZero() {
		return nil, errors.New("no address to ask (port 0, and no running server recorded one)")
	}
	return w.inst.Probe(ctx, addr, w.o.Timeout)
}

// healthAddr is cheap for a fixed port; with port 0 it follows the pid.
func (w *Watchdog) healthAddr() health.Addr {
	if w.inst.FixedPort() {
		return w.inst.HealthAddr(0)
	}
	pid, _ := w.inst.Running()
	if pid != w.addrPID || w.addr.IsZero() {
		w.addrPID, w.addr = pid, w.inst.HealthAddr(pid)
	}
	return w.addr
}

func (w *Watchdog) healthy(h *health.Doc, now time.Time) {
	if w.fails >= w.o.Failures {
		w.act(fmt.Sprintf("server pid %d answers again", h.PID), nil)
	}
	w.fails, w.note = 0, ""
	w.lastOK, w.serverPID = now, h.PID
	if w.healthySince.IsZero() {
		w.healthySince = now
	}
	w.supervisor = ""
	if h.Platform.Supervised() {
		w.supervisor = h.Platform.Supervisor
	}
	if now.Sub(w.trimmed) >= time.Minute {
		w.trimmed = now
		if err := w.inst.TrimConsole(); err != nil {
			w.act(err.Error(), nil)
		}
	}
	if (w.crashes > 0 || w.long) && w.stable(now) {
		w.act(fmt.Sprintf("server pid %d has been healthy for %s: backoff reset", h.PID, w.o.StableAfter), nil)
		w.crashes, w.long = 0, false
	}
}

func (w *Watchdog) stable(now time.Time) bool {
	return !w.healthySince.IsZero() && now.Sub(w.healthySince) >= w.o.StableAfter
}

// down acts on a server that failed Failures probes in a row.
func (w *Watchdog) down(ctx context.Context, cause error) {
	reaped := proc.Reap() // servers we started and that are gone
	if _, stopped := w.inst.Stopped(); stopped {
		w.once("stopped", "the server was stopped on purpose (webui ctl stop): leaving it down")
		return
	}
	w.reload()
	if pid, held := w.inst.Running(); held {
		if age := w.inst.pidFileAge(); age < w.o.StartWait && !w.inst.ready(pid) {
			w.once("starting", fmt.Sprintf("server pid %d is starting (pid file written %s ago): waiting", pid, age.Round(time.Millisecond)))
			return
		}
		// With port 0 the address moves with the pid: ask this pid's.
		if !w.inst.FixedPort() {
			if addr := w.inst.HealthAddr(pid); !addr.IsZero() && addr != w.addr {
				if h, err := w.inst.Probe(ctx, addr, w.o.Timeout); err == nil && h.PID == pid {
					w.healthy(h, time.Now())
					return
				}
			}
		}
		w.countFailure(pid)
		w.killHung(ctx, pid, cause)
		w.lastExit = time.Now()
	} else {
		if in, ok := schedule.ReadIntent(w.inst.RunDir); ok && !proc.Alive(in.PID) {
			w.carryRestart(ctx, in, time.Time{})
			return
		}
		lts, _ := diag.Load(w.inst.StateDir, diag.LoadOptions{})
		if !w.outageStart.Equal(w.reported) { // once per outage
			w.reported = w.outageStart
			w.countFailure(w.serverPID)
			w.lastExit = w.exitTime(lts)
			msg := fmt.Sprintf("server is down (%v)", errString(cause))
			if st, ok := reaped[w.mine]; ok && w.mine > 0 {
				msg += fmt.Sprintf("; pid %d, which the watchdog started, %s", w.mine, describeStatus(st))
			}
			for _, lt := range lts {
				if lt.Verdict != diag.Running && w.o.Describe != nil {
					msg += "; last lifetime: " + w.o.Describe(lt)
					break
				}
			}
			w.act(msg, nil)
		}
	}
	if w.supervisor != "" {
		if time.Since(w.outageStart) < supervisedGrace {
			w.once("supervised", fmt.Sprintf("%s supervises the server (its /health said so): leaving the start to it", w.supervisor))
			return
		}
		w.act(fmt.Sprintf("%s did not bring the server back within %s: the watchdog starts it", w.supervisor, supervisedGrace), nil)
		w.supervisor = ""
	}
	w.startWhenDue(ctx)
}

// supervisedGrace is how long the watchdog leaves a supervised server's
// start to its supervisor (runsv restarts within a second, or 30 s after an
// exit its finish script waits out).
const supervisedGrace = 2 * time.Minute

// countFailure applies the crash-loop rule (crashLoopCounts) to the
// server that went, as its lifetime record tells its start and readiness.
func (w *Watchdog) countFailure(pid int) {
	w.lastFail = time.Now()
	lt := w.inst.lifetimeOf(pid)
	if lt == nil {
		// No record (diagnostics off): only what the probes saw.
		if w.mine != 0 && pid == w.mine && !w.outageAfterStable {
			w.crashes++
		}
		return
	}
	died := w.deathAt
	if died.IsZero() || died.Before(lt.StartedAt) {
		died = time.Now()
	}
	if crashLoopCounts(died.Sub(lt.StartedAt), lt.Addr != "", w.o.StableAfter) {
		w.crashes++
	} else {
		w.crashes, w.long = 0, false
	}
}

// exitTime is the latest moment the server can have exited. On Android
// the next start must come restart_delay after it.
func (w *Watchdog) exitTime(lts []diag.Lifetime) time.Time {
	if !w.deathAt.IsZero() && (w.lastOK.IsZero() || w.deathAt.After(w.lastOK)) {
		return w.deathAt // seen as it happened
	}
	if !w.lastOK.IsZero() && !w.outageStart.IsZero() && w.outageStart.After(w.lastOK) {
		// It answered at lastOK and was gone at outageStart.
		return w.outageStart
	}
	for _, lt := range lts {
		if lt.Verdict != diag.Running {
			if lt.EndedAt != nil {
				return *lt.EndedAt
			}
			break
		}
	}
	return time.Time{}
}

func (w *Watchdog) reload() {
	if w.o.Reload == nil {
		return
	}
	ni, err := w.o.Reload()
	if err != nil {
		if msg := err.Error(); msg != w.configErr {
			w.configErr = msg
			w.act("settings: "+msg+" (keeping the previous ones)", nil)
		}
		return
	}
	w.configErr = ""
	ni.Prober = w.inst.Prober
	w.inst = ni
}

// once acts only when the condition differs from the last one logged.
func (w *Watchdog) once(key, msg string) {
	if w.note == key {
		return
	}
	w.note = key
	w.act(msg, nil)
}

// act logs one action and records it for `ctl status`.
func (w *Watchdog) act(msg string, next *time.Time) {
	w.o.Logf("%s", msg)
	now := time.Now().UTC()
	st := WatchdogState{PID: os.Getpid(), LastAction: msg, At: &now, ServerPID: w.serverPID, NextStart: next}
	b, _ := json.Marshal(st)
	if err := renameio.WriteFile(paths.Run(w.inst.RunDir).WatchdogState(), append(b, '\n'), 0o644); err != nil {
		w.o.Logf("write %s: %v", paths.Run(w.inst.RunDir).WatchdogState(), err)
	}
}

func describeStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "was killed by " + diag.SignalName(ws.Signal())
	}
	return "exited with code " + strconv.Itoa(ws.ExitStatus())
}

func modTime(path string) time.Time {
	if path == "" {
		return time.Time{}
	}
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}
