package apps

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// Verdicts of an app lifetime ("verdict" in `webui diagnose --app NAME
// --json`). The ones that mean what they mean for webui itself share
// internal/diag's words.
const (
	VerdictRunning       = diag.Running
	VerdictCleanExit     = diag.CleanExit             // exit 0 on its own
	VerdictSignal        = diag.CaughtSignal          // a signal other than SIGKILL
	VerdictCrash         = diag.Crash                 // exit code ≠ 0
	VerdictRestartWindow = diag.KilledInRestartWindow // SIGKILL soon after a start, on Android
	VerdictKilled        = "killed"                   // SIGKILL: OOM, phantom killer, kill -9
	VerdictStopped       = "stopped"                  // webui stopped it (stop, restart, reload)
	VerdictUnhealthy     = "unhealthy"                // its health check failed; webui restarted it
	VerdictStartTimeout  = "start_timeout"            // never became ready; webui restarted it
	VerdictUnobserved    = "ended"                    // gone while webui was not its parent: no exit status
)

// phantomHint: diag's fix on Android, and where to look elsewhere.
const phantomHint = diag.PhantomHint + ". Elsewhere, check the kernel log for the OOM killer (dmesg | grep -i oom)"

// Lifetime is one run of an app's process, from its start to its exit.
type Lifetime struct {
	PID        int        `json:"pid"`
	Verdict    string     `json:"verdict"`
	Code       *int       `json:"code,omitempty"`   // exit code, when it exited
	Signal     string     `json:"signal,omitempty"` // "SIGKILL", when a signal ended it
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	LivedS     float64    `json:"lived_s"`
	Reason     string     `json:"reason,omitempty"` // why webui ended it: stop, restart, reload, health, start_timeout
	Summary    string     `json:"summary"`
	Hint       string     `json:"hint,omitempty"`
	Port       int        `json:"port,omitempty"`
	StartTicks uint64     `json:"start_ticks,omitempty"`
	Tail       []string   `json:"tail,omitempty"` // the last lines of its log

	sig syscall.Signal // Signal's number
}

// event is lt as a line of its app's lifetimes: a start while it has not
// ended, else its exit.
func (lt Lifetime) event() diag.Event {
	ev := diag.Event{Event: diag.EvStart, T: lt.StartedAt.UTC(), PID: lt.PID, StartTicks: lt.StartTicks, Port: lt.Port}
	if lt.EndedAt == nil {
		return ev
	}
	ev.Event, ev.T, ev.UptimeS = diag.EvGone, lt.EndedAt.UTC(), lt.LivedS
	ev.Verdict, ev.Reason, ev.Detail, ev.Hint, ev.Tail = lt.Verdict, lt.Reason, lt.Summary, lt.Hint, lt.Tail
	switch {
	case lt.Code != nil:
		ev.Event, ev.Code = diag.EvExit, *lt.Code
	case lt.sig != 0:
		ev.Event, ev.Signal, ev.Name = diag.EvExit, int(lt.sig), lt.Signal
	}
	return ev
}

// lifetimeOf reads a lifetime back from its start or exit event.
func lifetimeOf(ev diag.Event) Lifetime {
	lt := Lifetime{PID: ev.PID, StartTicks: ev.StartTicks, Port: ev.Port, StartedAt: ev.T}
	if ev.Event == diag.EvStart {
		return lt
	}
	end := ev.T
	lt.EndedAt, lt.LivedS = &end, ev.UptimeS
	lt.StartedAt = end.Add(-time.Duration(ev.UptimeS * float64(time.Second))) // unless its start is on record
	lt.Verdict, lt.Reason, lt.Summary, lt.Hint, lt.Tail = ev.Verdict, ev.Reason, ev.Detail, ev.Hint, ev.Tail
	if ev.Event == diag.EvExit {
		if ev.Signal != 0 {
			lt.sig = syscall.Signal(ev.Signal)
			lt.Signal = diag.SignalName(lt.sig)
		} else {
			code := ev.Code
			lt.Code = &code
		}
	}
	return lt
}

func (s *Supervisor) lifetimesFile(name string) string {
	return paths.State(s.cfg.StateDir).Lifetimes().AppLifetimes(name)
}

// maxLifetimesBytes bounds one app's lifetimes file; past it the older
// half is dropped.
const maxLifetimesBytes = 256 << 10

// appendLife puts lt's start (or, once it has ended, its exit) on record.
func (s *Supervisor) appendLife(name string, lt Lifetime) {
	path := s.lifetimesFile(name)
	err := prepareLifetimes(path)
	if err == nil {
		err = diag.AppendEvent(path, lt.event())
	}
	if err != nil {
		s.log.WithError(err).Warn("app lifetimes")
	}
}

// prepareLifetimes creates an app's lifetimes file (0600; diag appends
// only to a record that exists), or trims it past its bound.
func prepareLifetimes(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Size() > maxLifetimesBytes:
		trimHalf(path)
	case os.IsNotExist(err):
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		return f.Close()
	}
	return nil
}

func trimHalf(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	cut := len(b) / 2
	for cut < len(b) && b[cut-1] != '\n' {
		cut++
	}
	_ = os.WriteFile(path+".tmp", b[cut:], 0o600)
	_ = os.Rename(path+".tmp", path)
}

// History is the app's lifetimes, newest first. A start with no exit on
// record is running if its process is, else it ended unobserved (webui was
// not running when it went).
func (s *Supervisor) History(name string) []Lifetime { return History(s.cfg.StateDir, name) }

// History reads the lifetimes of app name under stateDir without a
// Supervisor (for `webui diagnose --app NAME`).
func History(stateDir, name string) []Lifetime {
	type key struct {
		pid   int
		ticks uint64
	}
	var order []key
	byKey := map[key]*Lifetime{}
	for _, ev := range diag.ReadEvents(paths.State(stateDir).Lifetimes().AppLifetimes(name)) {
		if ev.PID <= 0 || ev.Event != diag.EvStart && ev.Event != diag.EvExit && ev.Event != diag.EvGone {
			continue
		}
		k := key{ev.PID, ev.StartTicks}
		lt := lifetimeOf(ev)
		if prev, ok := byKey[k]; ok {
			if ev.Event != diag.EvStart {
				lt.StartedAt = prev.StartedAt
			}
			*prev = lt
			continue
		}
		order = append(order, k)
		byKey[k] = &lt
	}
	if len(order) == 0 {
		return nil
	}
	out := make([]Lifetime, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		lt := *byKey[order[i]]
		if lt.EndedAt == nil {
			if proc.SameProcess(lt.PID, lt.StartTicks) {
				lt.Verdict = VerdictRunning
				lt.LivedS = time.Since(lt.StartedAt).Seconds()
				lt.Summary = "running"
			} else {
				lt.Verdict = VerdictUnobserved
				lt.Summary = "ended while no webui watched it: its exit status is unknown"
			}
		}
		out = append(out, lt)
	}
	return out
}

// judge fills in an ended lifetime's verdict from its wait status (nil when
// webui was not its parent), the reason webui ended it ("" if it did not),
// and whether it ran on Android, where a SIGKILL within window of its start
// is the restart kill window.
func judge(lt *Lifetime, ws *syscall.WaitStatus, reason string, android bool, window time.Duration) {
	lt.Reason = reason
	lived := time.Duration(lt.LivedS * float64(time.Second))
	switch {
	case ws == nil:
		lt.Verdict = VerdictUnobserved
		lt.Summary = "ended; webui was not its parent (it was adopted after a restart), so its exit status is unknown"
	case ws.Exited():
		code := ws.ExitStatus()
		lt.Code = &code
		lt.Verdict, lt.Summary = VerdictCrash, fmt.Sprintf("exited with code %d", code)
		if code == 0 {
			lt.Verdict, lt.Summary = VerdictCleanExit, "exited with code 0"
		}
	case ws.Signaled():
		sig := ws.Signal()
		lt.sig, lt.Signal = sig, diag.SignalName(sig)
		lt.Verdict, lt.Summary = VerdictSignal, "ended by "+lt.Signal
		if sig == syscall.SIGKILL && reason == "" {
			lt.Verdict = VerdictKilled
			lt.Summary = "killed by SIGKILL from outside webui: the OOM killer, Android's phantom process killer, a cgroup kill, or kill -9"
			lt.Hint = phantomHint
			if android && window > 0 && lived < window {
				lt.Verdict = VerdictRestartWindow
				lt.Summary = fmt.Sprintf("killed by SIGKILL %s after its start: Android's restart kill window, which hits any new process of the app's cgroup near an exit", lived.Round(time.Millisecond))
				lt.Hint = "raise restart_delay so a restart waits the window out; " + phantomHint
			}
		}
	}
	switch reason {
	case "stop", "restart", "reload":
		lt.Verdict = VerdictStopped
		lt.Summary = "stopped by webui (" + reason + "); " + lt.Summary
	case "health":
		lt.Verdict = VerdictUnhealthy
		lt.Summary = "its health check failed repeatedly, so webui restarted it; " + lt.Summary
	case "start_timeout":
		lt.Verdict = VerdictStartTimeout
		lt.Summary = "it did not become ready in time, so webui restarted it; " + lt.Summary
	}
}
