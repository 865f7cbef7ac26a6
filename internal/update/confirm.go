package update

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// ConfirmTimeout is how long a new version has to answer /health after the
// restart, on top of restart_delay (and restart_survive for the delayed
// strategy, whose helper checks survival before it is done).
const ConfirmTimeout = 60 * time.Second

// Pending describes an installed update waiting for the new version to
// come up: <state_dir>/updates/pending.json. The confirmation helper reads
// it; a server that starts while no helper runs finishes it.
type Pending struct {
	From    string    `json:"from"`
	To      string    `json:"to"`
	Method  string    `json:"method"`
	Exe     string    `json:"exe"`
	Prev    string    `json:"prev_path"`
	Staged  string    `json:"staged"`
	Dpkg    string    `json:"dpkg,omitempty"`
	Started time.Time `json:"started"`
	// Deadline: the new version must answer /health by then.
	Deadline time.Time `json:"deadline"`
	// Health is the host:port where the server answers /health.
	Health string `json:"health"`
	// PID and StartTicks identify the server that was restarted.
	PID        int             `json:"pid"`
	StartTicks uint64          `json:"start_ticks,omitempty"`
	Strategy   health.Strategy `json:"strategy"`
	// Record is the lifetime record of the server that was updated.
	Record string `json:"record,omitempty"`
	// How to start the old version again, as `webui ctl start` would.
	StateDir     string        `json:"state_dir"`
	RunDir       string        `json:"run_dir"`
	LogDir       string        `json:"log_dir"`
	Addr         string        `json:"addr"`
	Args         []string      `json:"args"`
	Android      bool          `json:"android,omitempty"`
	RestartDelay time.Duration `json:"restart_delay"`
	HelperPID    int           `json:"helper_pid,omitempty"`
}

// ReadPending reads a pending.json.
func ReadPending(path string) (Pending, error) {
	var p Pending
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil || p.To == "" || p.Exe == "" {
		return p, fmt.Errorf("%s: damaged", path)
	}
	return p, nil
}

func writePending(path string, p Pending) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// serveArgs drops a leading "serve" (the default command) from a server's
// arguments: ctl.Instance adds it back.
func serveArgs(args []string) []string {
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	return append([]string{}, args...)
}

// pending describes the restart about to happen and writes pending.json.
func (j *Job) pending(prev string) (Pending, error) {
	cfg := j.s.o.Config
	now := time.Now().UTC()
	p := Pending{
		From: j.from, To: j.to, Method: j.plan.Method, Exe: j.plan.Exe, Prev: prev, Staged: j.staged, Dpkg: j.plan.Dpkg,
		Started: now, StateDir: cfg.StateDir, RunDir: cfg.RunDir, LogDir: cfg.LogDir, Addr: cfg.Addr,
		Android: j.s.o.Android, RestartDelay: cfg.RestartDelay,
	}
	if j.req.Restart != nil {
		p.PID, p.Health, p.Strategy, p.Args = os.Getpid(), j.req.HealthAddr, j.s.o.Strategy, serveArgs(os.Args[1:])
		if j.s.o.Recorder != nil {
			p.Record = j.s.o.Recorder.Path()
		}
	} else {
		srv := j.req.Server
		p.PID, p.Strategy, p.Args, p.Record = srv.PID, srv.Strategy, serveArgs(srv.Args), srv.Record
		if !srv.HealthAddr.IsZero() {
			p.Health = srv.HealthAddr.String()
		}
	}
	if p.Health == "" {
		if a, err := health.ParseAddr(cfg.Addr); err == nil && !a.AnyPort() {
			p.Health = a.String()
		}
	}
	a, err := health.ParseAddr(p.Health)
	if err != nil {
		return p, fmt.Errorf("cannot tell where the server answers /health (addr %s)", cfg.Addr)
	}
	p.Health = a.Dialable().String()
	p.StartTicks, _ = proc.StartTicks(p.PID)
	bound := ConfirmTimeout + cfg.RestartDelay
	if p.Strategy == health.StrategyDelayed {
		// The starter (helper or watchdog) may retry on the whole schedule;
		// wait ends sooner once it is done without a server.
		bound = ConfirmTimeout + schedule.Lead + schedule.New(cfg.RestartDelay, cfg.RestartSurvive, cfg.RestartAttempts).Total()
	}
	p.Deadline = now.Add(bound)
	return p, writePending(paths.State(cfg.StateDir).Updates().Pending(), p)
}

// spawnConfirm starts `webui update confirm` detached, from the .prev
// binary: the old, known-good code decides whether the new one is good.
// It inherits the apply lock and holds it until it is done.
func (j *Job) spawnConfirm(p Pending) (int, error) {
	cfg := j.s.o.Config
	if err := os.MkdirAll(cfg.LogDir, 0o700); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(paths.Log(cfg.LogDir).Update(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	path := paths.State(cfg.StateDir).Updates().Pending()
	argv := []string{p.Prev, "update", "confirm", "--pending", path}
	var env []string
	if j.req.Server != nil {
		env = serverEnv(j.req.Server.PID)
	}
	pid, err := proc.Spawn(p.Prev, argv, proc.Attr{Env: env, Stdout: logf, Stderr: logf, Setsid: true, ExtraFiles: []*os.File{j.lock.File()}})
	if err != nil {
		return 0, err
	}
	j.lock.HandedOff()
	p.HelperPID = pid
	if err := writePending(path, p); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return 0, err
	}
	return pid, nil
}

// serverEnv is a running server's environment (so the old version starts
// as it ran), or nil (ours) when it cannot be read.
func serverEnv(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// ServerArgs reads a running server's arguments after the program name.
func ServerArgs(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return nil
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return args[1:]
}

// confirmer is the `webui update confirm` helper's work.
type confirmer struct {
	path string
	p    Pending
	// inst is the updated server's installation; health is where it
	// answers (p.Health, parsed).
	inst    *ctl.Instance
	health  health.Addr
	logf    func(string, ...any)
	release func()
}

// final releases the apply lock, then writes the outcome: whoever sees a
// final status can start the next update.
func (c *confirmer) final(state, msg string) {
	if c.release != nil {
		c.release()
	}
	c.status(state, msg)
}

// RunConfirm is `webui update confirm`: wait for the new version to answer
// /health; on success record "updated A → B"; otherwise roll back: stop
// the unhealthy server, restore the previous binary, start the old
// version as `webui ctl start` does, and record why. release drops the
// apply lock the helper inherited; it is called before the final status.
// inst is the updated server, as p (read from pendingPath) describes it.
func RunConfirm(ctx context.Context, pendingPath string, p Pending, inst *ctl.Instance, release func(), logf func(string, ...any)) error {
	addr, err := health.ParseAddr(p.Health)
	if err != nil {
		return fmt.Errorf("%s: damaged: %w", pendingPath, err)
	}
	c := &confirmer{path: pendingPath, p: p, inst: inst, health: addr, logf: logf, release: release}
	c.status(StateConfirming, fmt.Sprintf("waiting for %s to answer /health at %s", p.To, p.Health))
	c.event("confirming", diag.Event{Deadline: p.Deadline})
	pid, why := c.wait(ctx)
	if why == "" {
		return c.success(pid)
	}
	return c.rollback(ctx, why)
}

func (c *confirmer) status(state, msg string) {
	st := Status{State: state, From: c.p.From, To: c.p.To, Method: c.p.Method, Message: msg}
	if err := WriteStatus(c.p.StateDir, st); err != nil {
		c.logf("update confirm: status: %v", err)
	}
	c.logf("update confirm: %s: %s", state, msg)
}

// event adds an update step to the updated server's lifetime record (the
// confirmer has no lifetime of its own).
func (c *confirmer) event(step string, ev diag.Event) {
	ev.Event, ev.Step, ev.From, ev.To = diag.EvUpdate, step, c.p.From, c.p.To
	_ = diag.AppendEvent(c.p.Record, ev)
}

// wait polls /health until the new version answers (its pid, "") or it is
// clear it will not (0, why).
func (c *confirmer) wait(ctx context.Context) (int, string) {
	p, inst := c.p, c.inst
	var last string
	var gone time.Time
	for {
		h, err := inst.Probe(ctx, c.health, 2*time.Second)
		switch {
		case err == nil && CompareVersions(h.Version, p.To) == 0:
			// A delayed restart's starter still at work has not seen this
			// server survive yet: on Android one that answers inside the
			// kill window can still be killed, and the starter retries.
			if p.Strategy == health.StrategyDelayed && schedule.Held(p.RunDir) {
				last = fmt.Sprintf("%s answers (pid %d); the restart is still confirming it survives", h.Version, h.PID)
				break
			}
			return h.PID, ""
		case err == nil:
			last = fmt.Sprintf("/health answers version %s (pid %d)", h.Version, h.PID)
		default:
			last = err.Error()
		}
		// exec keeps the pid: once that process is gone and nothing holds
		// the pid file, nothing is coming.
		if p.Strategy == health.StrategyExec && p.PID > 0 && !proc.SameProcess(p.PID, p.StartTicks) {
			if _, held := inst.Running(); !held {
				if gone.IsZero() {
					gone = time.Now()
				} else if time.Since(gone) > 2*time.Second {
					return 0, fmt.Sprintf("the server (pid %d) exited after the exec restart into %s and no server answers (%s)", p.PID, p.To, last)
				}
			}
		}
		// A delayed restart's starter that is done while no server runs
		// will start nothing more.
		if p.Strategy == health.StrategyDelayed && p.PID > 0 && !proc.SameProcess(p.PID, p.StartTicks) {
			_, intent := schedule.ReadIntent(p.RunDir)
			if _, held := inst.Running(); !held && !intent && !schedule.Held(p.RunDir) {
				if gone.IsZero() {
					gone = time.Now()
				} else if time.Since(gone) > 2*time.Second {
					return 0, fmt.Sprintf("the delayed restart into %s is over and no server answers (%s)", p.To, last)
				}
			} else {
				gone = time.Time{}
			}
		}
		if time.Now().After(p.Deadline) {
			return 0, fmt.Sprintf("%s did not answer /health at %s within %s (%s)", p.To, p.Health, p.Deadline.Sub(p.Started).Round(time.Second), last)
		}
		select {
		case <-ctx.Done():
			return 0, "the confirmation was interrupted"
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *confirmer) success(pid int) error {
	p := c.p
	msg := fmt.Sprintf("updated %s → %s", p.From, p.To)
	if p.Method == MethodDpkg {
		cacheDeb(p.StateDir, p.Staged, p.To)
		_ = os.Remove(p.Prev) // the cached .deb is the way back now
	}
	c.event("updated", diag.Event{PID: pid, Method: p.Method, TookS: time.Since(p.Started).Seconds()})
	_ = os.RemoveAll(paths.State(p.StateDir).Updates().Staging())
	_ = os.Remove(c.path)
	c.final(StateDone, fmt.Sprintf("%s (pid %d answers /health)", msg, pid))
	return nil
}

func (c *confirmer) rollback(ctx context.Context, why string) error {
	p, inst := c.p, c.inst
	c.status(StateConfirming, "rolling back: "+why)
	c.event("rolling-back", diag.Event{Why: why})

	oldServing := false
	if h, err := inst.Probe(ctx, c.health, 2*time.Second); err == nil && CompareVersions(h.Version, p.From) == 0 {
		oldServing = true // the restart never happened (an exec that failed resumes)
	}
	var stopped []int
	if !oldServing {
		// What runs now is not the old version (or does not answer): stop it.
		if pid, ok := inst.Running(); ok && pid != os.Getpid() {
			if _, err := proc.Terminate(ctx, pid, 5*time.Second); err == nil {
				stopped = append(stopped, pid)
			}
		}
		if p.PID > 0 && p.PID != os.Getpid() && proc.SameProcess(p.PID, p.StartTicks) {
			if _, err := proc.Terminate(ctx, p.PID, 5*time.Second); err == nil {
				stopped = append(stopped, p.PID)
			}
		}
	}
	note, err := c.restoreBinary(ctx)
	if err != nil {
		msg := fmt.Sprintf("update to %s failed: %s; the rollback failed too: %v", p.To, why, err)
		c.event("rollback-failed", diag.Event{Why: why, Error: err.Error()})
		c.final(StateFailed, msg)
		return fmt.Errorf("%s", msg)
	}
	serving := 0
	if !oldServing {
		if p.Strategy == health.StrategySupervisor {
			// runit (or systemd) starts it again by itself.
			if h := c.awaitVersion(ctx, p.From, 15*time.Second+p.RestartDelay); h > 0 {
				serving = h
			}
		}
		leaveDown := false
		if at, stopped := inst.Stopped(); serving == 0 && stopped && !at.Before(p.Started.Add(-time.Second)) {
			// `ctl stop` during the update wins: restore, start nothing.
			note += "; not started again: webui ctl stop ran during the update"
			leaveDown = true
		}
		if serving == 0 && !leaveDown {
			res, err := inst.Start(ctx, ctl.StartOptions{Wait: 30 * time.Second})
			switch {
			case err != nil:
				msg := fmt.Sprintf("update to %s failed: %s; %s %s was restored, but it did not start: %v", p.To, why, p.Exe, p.From, err)
				c.event("rollback-failed", diag.Event{Why: why, Error: err.Error(), Stopped: stopped})
				c.final(StateFailed, msg)
				return fmt.Errorf("%s", msg)
			case CompareVersions(res.Health.Version, p.From) != 0:
				msg := fmt.Sprintf("update to %s failed: %s; after the rollback, version %s answers (pid %d), not %s", p.To, why, res.Health.Version, res.PID, p.From)
				c.event("rollback-failed", diag.Event{Why: why, Error: msg})
				c.final(StateFailed, msg)
				return fmt.Errorf("%s", msg)
			}
			serving = res.PID
		}
	}
	msg := fmt.Sprintf("update to %s failed: %s; rolled back to %s%s", p.To, why, p.From, note)
	c.event("rolled-back", diag.Event{Why: why, Stopped: stopped, ServingPID: serving, Note: strings.TrimPrefix(note, "; ")})
	_ = os.RemoveAll(paths.State(p.StateDir).Updates().Staging())
	_ = os.Remove(c.path)
	c.final(StateRolledBack, msg)
	return fmt.Errorf("%s", msg)
}

// Startup is called by a server as it starts. If no update holds the lock
// (a helper confirming, another apply), it settles what an interrupted
// update left: a pending update whose helper is gone is finished (this
// server runs the new version) or abandoned; a status stuck in a busy
// state becomes "failed: interrupted"; staging and temp files go.
func (s *Service) Startup() {
	if p, err := ReadPending(paths.State(s.stateDir()).Updates().Pending()); err == nil && CompareVersions(p.To, s.o.Version) == 0 {
		s.record(diag.Event{Step: "new-version-started", From: p.From, To: p.To})
		if p.HelperPID > 0 {
			diag.Go("update confirm reaper", func() { reapChild(p.HelperPID) })
		}
	}
	lock, err := TryLock(s.stateDir())
	if err != nil {
		return
	}
	defer lock.Release()
	st, _ := ReadStatus(s.stateDir())
	p, perr := ReadPending(paths.State(s.stateDir()).Updates().Pending())
	switch {
	case perr == nil && CompareVersions(p.To, s.o.Version) == 0:
		msg := fmt.Sprintf("updated %s → %s (confirmed by the new server as it started: the confirmation helper was gone)", p.From, p.To)
		if p.Method == MethodDpkg {
			cacheDeb(s.stateDir(), p.Staged, p.To)
		}
		_ = WriteStatus(s.stateDir(), Status{State: StateDone, From: p.From, To: p.To, Method: p.Method, Message: msg})
		s.record(diag.Event{Step: "updated", From: p.From, To: p.To, Note: "confirmed at startup"})
		s.logf("%s", msg)
	case perr == nil:
		msg := fmt.Sprintf("the update %s → %s was interrupted before it was confirmed; this server runs %s", p.From, p.To, s.o.Version)
		_ = WriteStatus(s.stateDir(), Status{State: StateFailed, From: p.From, To: p.To, Method: p.Method, Message: msg})
		s.record(diag.Event{Step: "interrupted", From: p.From, To: p.To})
		s.warnf("%s", msg)
	case Busy(st.State):
		msg := fmt.Sprintf("the update to %s was interrupted while %s (the process applying it was killed or crashed); this server runs %s", st.To, st.State, s.o.Version)
		st.State, st.Message, st.UpdatedAt = StateFailed, msg, time.Time{}
		_ = WriteStatus(s.stateDir(), st)
		s.record(diag.Event{Step: "interrupted", From: st.From, To: st.To})
		s.warnf("%s", msg)
	}
	_ = os.Remove(paths.State(s.stateDir()).Updates().Pending())
	_ = os.RemoveAll(paths.State(s.stateDir()).Updates().Staging())
	cleanTemps(s.exe)
}

// RunChecks checks the feed every update_interval (0: never) until ctx
// ends, logging when a newer version is out. It never applies one.
func (s *Service) RunChecks(ctx context.Context) {
	every := s.o.Config.UpdateInterval
	if every <= 0 {
		return
	}
	t := time.NewTimer(min(every, 5*time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := s.Check(ctx, true)
		switch {
		case res.Error != "":
			s.warnf("update check: %s", res.Error)
		case res.Available:
			s.logf("update available: %s → %s (apply it in the console, or with `webui update apply`)", res.Current, res.Latest)
		}
		t.Reset(every)
	}
}
