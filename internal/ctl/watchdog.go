package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/google/renameio/v2"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/server"
)

// WatchdogOptions tune the watchdog. Zero values take the defaults of
// `webui watchdog`.
type WatchdogOptions struct {
	Interval time.Duration // between /health probes (5s)
	Timeout  time.Duration // one probe's limit (3s)
	Failures int           // consecutive failed probes before acting (2)
	// StartWait is a start's wait for /health; a server whose pid file is
	// younger than this counts as starting, not hung (15s).
	StartWait time.Duration
	// KillAfter: a hung server gets SIGTERM, and SIGKILL this much later (10s).
	KillAfter time.Duration
	// StableAfter: healthy this long resets the backoff (60s).
	StableAfter time.Duration
	Backoff     Backoff
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
	set(&o.Interval, 5*time.Second)
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

// Watchdog keeps one server up: it polls /health and, after Failures
// failed probes in a row, acts on what it finds.
//
//   - stopped on purpose (the webui.stopped marker): leaves it down;
//   - alive but not answering (hung, SIGSTOPped): SIGUSR1 so the server
//     records a stack dump, SIGTERM, SIGKILL after KillAfter, then a start;
//   - gone: a start, except while a delayed restart's helper is still at
//     work, or when runit or systemd supervises the server.
//
// Starts go through Instance.Start, the path `ctl start` takes. On Android
// a start never comes sooner than restart_delay after the last exit seen. A
// crash loop backs off exponentially (Backoff), and a start that fails with
// a config error (exit 2) or a taken port (exit 3) waits the longest delay
// at once, unless the config file changes. Idle, the watchdog costs one
// HTTP GET per interval on a kept-alive connection.
type Watchdog struct {
	inst *Instance
	o    WatchdogOptions

	fails             int       // consecutive failed probes
	outageStart       time.Time // the first failed probe of this outage
	outageAfterStable bool      // the server had been stable when it went
	healthySince      time.Time
	lastOK            time.Time
	serverPID         int    // the pid that last answered
	supervisor        string // runit or systemd, if /health said so
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
	addr              string
}

// NewWatchdog makes a watchdog for inst. It gives inst a keep-alive client.
func NewWatchdog(inst *Instance, o WatchdogOptions) *Watchdog {
	o.defaults()
	inst.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: 2 * o.Interval}}
	return &Watchdog{inst: inst, o: o}
}

// Run watches until ctx ends (SIGTERM), then returns nil. Only one
// watchdog runs per run dir: a second returns exit code 4 (Running).
func (w *Watchdog) Run(ctx context.Context) error {
	if err := os.MkdirAll(w.inst.RunDir, 0o700); err != nil {
		return exitcode.Newf(exitcode.Usage, "cannot create the run dir %s: %v (set another with --run-dir)", w.inst.RunDir, err)
	}
	pf, err := proc.Acquire(w.inst.WatchdogPIDFile())
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
	if addr == "" {
		addr = w.inst.Addr
	}
	w.act(fmt.Sprintf("%s: polling http://%s/health every %s (timeout %s), acting after %d failures",
		how, addr, w.o.Interval, w.o.Timeout, w.o.Failures), nil)
	for {
		w.tick(ctx)
		if sleep(ctx, w.o.Interval) != nil {
			break
		}
	}
	w.act("watchdog stopped", nil)
	return nil
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
func (w *Watchdog) probe(ctx context.Context) (*server.Health, error) {
	addr := w.healthAddr()
	if addr == "" {
		return nil, errors.New("no address to ask (port 0, and no running server recorded one)")
	}
	return w.inst.Probe(ctx, addr, w.o.Timeout)
}

// healthAddr is cheap for a fixed port; with port 0 it follows the pid.
func (w *Watchdog) healthAddr() string {
	if w.inst.FixedPort() {
		return w.inst.HealthAddr(0)
	}
	pid, _ := w.inst.Running()
	if pid != w.addrPID || w.addr == "" {
		w.addrPID, w.addr = pid, w.inst.HealthAddr(pid)
	}
	return w.addr
}

func (w *Watchdog) healthy(h *server.Health, now time.Time) {
	if w.fails >= w.o.Failures {
		w.act(fmt.Sprintf("server pid %d answers again", h.PID), nil)
	}
	w.fails, w.note = 0, ""
	w.lastOK, w.serverPID = now, h.PID
	if w.healthySince.IsZero() {
		w.healthySince = now
	}
	w.supervisor, _ = h.Platform["supervisor"].(string)
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
			if addr := w.inst.HealthAddr(pid); addr != "" && addr != w.addr {
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
		lts, _ := diag.Load(w.inst.StateDir, diag.LoadOptions{})
		if w.restartPending(lts) {
			return
		}
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
	if w.supervisor == "runit" || w.supervisor == "systemd" {
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

// countFailure counts the loss of a server we started that had not yet
// been stable as one more failure in a row.
func (w *Watchdog) countFailure(pid int) {
	w.lastFail = time.Now()
	if w.mine != 0 && pid == w.mine && !w.outageAfterStable {
		w.crashes++
	}
}

// exitTime is the latest moment the server can have exited. On Android
// the next start must come restart_delay after it.
func (w *Watchdog) exitTime(lts []diag.Lifetime) time.Time {
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

// restartPending: the newest lifetime asked for a delayed restart, and its
// helper has not yet reported that the new server survived or that it gave
// up. The helper starts the server then; two starters would race.
func (w *Watchdog) restartPending(lts []diag.Lifetime) bool {
	if len(lts) == 0 || lts[0].Verdict == diag.Running {
		return false
	}
	lt, err := diag.Find(w.inst.StateDir, lts[0].ID, diag.LoadOptions{})
	if err != nil {
		return false
	}
	var delayed bool
	var last time.Time
	for _, raw := range lt.Events {
		var ev struct {
			Event    string    `json:"event"`
			Strategy string    `json:"strategy"`
			Step     string    `json:"step"`
			T        time.Time `json:"t"`
		}
		if json.Unmarshal(raw, &ev) != nil {
			continue
		}
		switch {
		case ev.Event == diag.EvPreRestart && ev.Strategy == "delayed":
			delayed, last = true, ev.T
		case ev.Event == diag.EvHelper && (ev.Step == "survived" || ev.Step == "gave-up"):
			delayed = false
		case ev.Event == diag.EvHelper:
			last = ev.T
		}
	}
	limit := 2*time.Minute + 16*w.inst.RestartDelay // the helper's retries double its delay
	if !delayed || time.Since(last) > limit {
		return false
	}
	w.once("restart-pending", fmt.Sprintf("a delayed restart of pid %d is in progress: leaving the start to its helper", lt.PID))
	return true
}

// killHung gets a stack dump from a server that does not answer, then
// stops it.
func (w *Watchdog) killHung(ctx context.Context, pid int, cause error) {
	w.act(fmt.Sprintf("server pid %d runs but /health failed %d times (%s): SIGUSR1 for a stack dump, then SIGTERM", pid, w.fails, errString(cause)), nil)
	dumped, killed, err := w.inst.KillHung(ctx, pid, w.o.KillAfter, "watchdog: /health did not answer")
	what := "stopped by SIGTERM"
	if killed {
		what = fmt.Sprintf("killed with SIGKILL (no exit %s after SIGTERM)", w.o.KillAfter)
	}
	if dumped {
		what = "stack dump recorded; " + what
	} else {
		what = "no stack dump recorded; " + what
	}
	if err != nil {
		what += fmt.Sprintf(" (%v)", err)
	}
	w.act(fmt.Sprintf("server pid %d: %s", pid, what), nil)
}

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
		if sleep(ctx, d) != nil {
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
	now := time.Now()
	if err == nil {
		w.fails, w.note = 0, ""
		w.healthySince, w.lastOK, w.serverPID, w.outageStart = now, now, res.PID, time.Time{}
		if res.Already {
			w.act(fmt.Sprintf("server pid %d answers (someone else started it)", res.PID), nil)
			return true
		}
		w.mine = res.PID
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
	ni.Client = w.inst.Client
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
	if err := renameio.WriteFile(w.inst.WatchdogStateFile(), append(b, '\n'), 0o644); err != nil {
		w.o.Logf("write %s: %v", w.inst.WatchdogStateFile(), err)
	}
}

// KillHung asks pid for a stack dump (SIGUSR1; SIGCONT so a stopped
// process can act on it), waits up to 2s for the dump to land in its
// lifetime record, announces intent and stops it: SIGTERM, then SIGKILL
// after grace.
func (i *Instance) KillHung(ctx context.Context, pid int, grace time.Duration, intent string) (dumped, killed bool, err error) {
	rec := i.recordOf(pid)
	before := fileSize(rec)
	_ = syscall.Kill(pid, syscall.SIGUSR1)
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if rec != "" {
		deadline := time.Now().Add(2 * time.Second)
		for fileSize(rec) == before && time.Now().Before(deadline) && ctx.Err() == nil {
			_ = sleep(ctx, 20*time.Millisecond)
		}
		dumped = fileSize(rec) > before
	}
	if err := diag.WriteIntent(i.RunDir, intent); err != nil {
		return dumped, false, err
	}
	killed, err = proc.Terminate(ctx, pid, grace)
	_ = os.Remove(diag.IntentFile(i.RunDir))
	return dumped, killed, err
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
