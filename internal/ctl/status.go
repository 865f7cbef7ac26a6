package ctl

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// Server states, as `ctl status` reports them.
const (
	StateRunning   = "running"   // the pid file is held and /health answers
	StateUnhealthy = "unhealthy" // the pid file is held, but /health does not answer
	StateStopped   = "stopped"   // not running: stopped on purpose, or never started
	StateDead      = "dead"      // not running, and nobody stopped it: it died
)

// Exit codes of `ctl status`, in the spirit of LSB init scripts (3 = not
// running). 2 stays the usage error of every command.
const (
	StatusRunning   = 0
	StatusDead      = 1
	StatusStopped   = 3
	StatusUnhealthy = 4
)

// Status is what `ctl status` reports.
type Status struct {
	State string `json:"state"`
	// Summary is the state in a few words ("stopped with `webui ctl stop`").
	Summary   string              `json:"summary"`
	PID       int                 `json:"pid,omitempty"`
	Addr      string              `json:"addr"`
	Health    string              `json:"health"` // ok, degraded, or why it did not answer
	Version   string              `json:"version,omitempty"`
	StartedAt *time.Time          `json:"started_at,omitempty"`
	UptimeS   float64             `json:"uptime_s,omitempty"`
	Restart   *health.RestartInfo `json:"restart,omitempty"`
	StoppedAt *time.Time          `json:"stopped_at,omitempty"`
	StoppedBy string              `json:"stopped_by,omitempty"`
	// LastDeath is the newest lifetime that is over, with its verdict.
	LastDeath *diag.Lifetime `json:"last_death,omitempty"`
	Watchdog  WatchdogStatus `json:"watchdog"`
}

// WatchdogStatus is the watchdog as `ctl status` sees it.
type WatchdogStatus struct {
	Running bool `json:"running"`
	PID     int  `json:"pid,omitempty"`
	WatchdogState
}

// WatchdogState is what the watchdog writes to webui-watchdog.json.
type WatchdogState struct {
	PID        int        `json:"pid"`
	LastAction string     `json:"last_action,omitempty"`
	At         *time.Time `json:"at,omitempty"`
	ServerPID  int        `json:"server_pid,omitempty"`
	NextStart  *time.Time `json:"next_start,omitempty"`
}

// ExitCode is the `ctl status` exit code for s.
func (s *Status) ExitCode() int {
	switch s.State {
	case StateRunning:
		return StatusRunning
	case StateUnhealthy:
		return StatusUnhealthy
	case StateStopped:
		return StatusStopped
	}
	return StatusDead
}

// classify decides the state from what was observed.
//
//	held:      a live process holds the pid file
//	answering: /health answered for that pid
//	stopped:   the stopped marker exists
//	ranBefore: a lifetime was ever recorded
func classify(held, answering, stopped, ranBefore bool) string {
	switch {
	case held && answering:
		return StateRunning
	case held:
		return StateUnhealthy
	case stopped || !ranBefore:
		return StateStopped
	}
	return StateDead
}

// Status looks at the server, its records and the watchdog. timeout bounds
// the /health probe.
func (i *Instance) Status(ctx context.Context, timeout time.Duration) *Status {
	s := &Status{Addr: i.Addr.String()}
	pid, held := i.Running()
	s.PID = pid
	answering := false
	if held {
		addr := i.HealthAddr(pid)
		if !addr.IsZero() {
			s.Addr = addr.String()
		}
		switch h, err := i.Probe(ctx, addr, timeout); {
		case addr.IsZero():
			s.Health = "unknown address: port 0 and no ready record"
		case err != nil:
			s.Health = "not answering: " + errString(err)
		case h.PID != pid:
			s.Health = "another process answers: pid " + strconv.Itoa(h.PID)
		default:
			answering = true
			s.Health = h.Status
			s.Version = h.Version
			t := h.StartedAt
			s.StartedAt = &t
			s.UptimeS = h.UptimeS
			r := h.Restart
			s.Restart = &r
		}
	}
	stoppedAt, stopped := i.Stopped()
	if stopped {
		s.StoppedAt = &stoppedAt
		if b, err := os.ReadFile(paths.Run(i.RunDir).Stopped()); err == nil {
			s.StoppedBy = strings.TrimSpace(string(b))
		}
	}
	lts, _ := diag.Load(i.StateDir, diag.LoadOptions{})
	for _, lt := range lts {
		if lt.Verdict != diag.Running && (!held || lt.PID != pid || lt.EndedAt != nil) {
			s.LastDeath = &lt
			break
		}
	}
	s.State = classify(held, answering, stopped, len(lts) > 0)
	switch s.State {
	case StateRunning:
		s.Summary = "running"
	case StateUnhealthy:
		s.Summary = "it runs, but /health does not answer: starting, hung, or stopped with SIGSTOP"
	case StateStopped:
		if stopped {
			s.Summary = "on purpose, with `webui ctl stop`; the watchdog leaves it down"
		} else {
			s.Summary = "never started with these settings"
		}
	case StateDead:
		s.Summary = "not running, and nobody stopped it: it died"
	}
	s.Watchdog = i.watchdogStatus()
	return s
}

// Watchdog reads the watchdog's pid file and its last action
// (webui-watchdog.json), for the console's status page.
func (i *Instance) Watchdog() WatchdogStatus { return i.watchdogStatus() }

// watchdogStatus reads the watchdog's pid file and last action.
func (i *Instance) watchdogStatus() WatchdogStatus {
	var w WatchdogStatus
	if pid, held, err := proc.Read(paths.Run(i.RunDir).WatchdogPID()); err == nil && held {
		w.Running, w.PID = true, pid
	}
	if b, err := os.ReadFile(paths.Run(i.RunDir).WatchdogState()); err == nil {
		_ = json.Unmarshal(b, &w.WatchdogState)
	}
	return w
}

func errString(err error) string {
	if pe, ok := err.(*health.ProbeError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
