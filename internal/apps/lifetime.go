package apps

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/paths"
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

const phantomHint = "on Android 12+, disable the phantom process killer: adb shell settings put global settings_enable_monitor_phantom_procs false (Android 14+: Developer options > Disable child process restrictions); keep a wake lock (termux-wake-lock). Elsewhere, check the kernel log for the OOM killer (dmesg | grep -i oom)"

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
}

// lifeEvent is one line of an app's lifetimes file: a start, or an exit.
// A small typed record of its own (JSON lines) until the diag events are
// one type for webui and its apps.
type lifeEvent struct {
	Event string `json:"event"` // "start" or "exit"
	Lifetime
}

func (s *Supervisor) lifetimesFile(name string) string {
	return paths.State(s.cfg.StateDir).Lifetimes().AppLifetimes(name)
}

// maxLifetimesBytes bounds one app's lifetimes file; past it the older
// half is dropped.
const maxLifetimesBytes = 256 << 10

func (s *Supervisor) appendLife(name string, ev lifeEvent) {
	path := s.lifetimesFile(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.log.WithError(err).Warn("app lifetimes")
		return
	}
	if st, err := os.Stat(path); err == nil && st.Size() > maxLifetimesBytes {
		trimHalf(path)
	}
	b, _ := json.Marshal(ev)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		s.log.WithError(err).Warn("app lifetimes")
		return
	}
	defer f.Close()
	_, _ = f.Write(append(b, '\n')) // one write: a concurrent reader sees whole lines
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
	f, err := os.Open(paths.State(stateDir).Lifetimes().AppLifetimes(name))
	if err != nil {
		return nil
	}
	defer f.Close()
	type key struct {
		pid   int
		ticks uint64
	}
	var order []key
	byKey := map[key]*Lifetime{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var ev lifeEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.PID <= 0 {
			continue
		}
		k := key{ev.PID, ev.StartTicks}
		lt := ev.Lifetime
		if prev, ok := byKey[k]; ok && ev.Event == "exit" {
			*prev = lt
			continue
		}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = &lt
	}
	out := make([]Lifetime, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		lt := *byKey[order[i]]
		if lt.EndedAt == nil {
			if sameProcess(lt.PID, lt.StartTicks) {
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
		lt.Signal = diag.SignalName(sig)
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
