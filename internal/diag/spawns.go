package diag

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// spawn is a restart helper's or old image's claim that pid was started.
type spawn struct {
	pid     int
	t       time.Time
	by      string // record id of the old lifetime
	killed  bool   // the helper saw it die during the survival check
	outcome string
	exec    bool
	next    string // the lifetime it started, when it wrote its first line
	reach   time.Duration
}

// reachOf bounds how long after a spawn a lifetime with that pid is taken
// to be the spawned process, not a later one reusing the pid: the whole
// restart schedule the starter recorded in its "started" step (the
// default schedule when it recorded none).
func reachOf(ev *Event) time.Duration {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	if ev == nil || ev.Attempts <= 0 {
		return schedule.Default().Total()
	}
	s := schedule.New(sec(ev.DelayS), sec(ev.SurviveS), ev.Attempts)
	if c := sec(ev.CapS); c > 0 {
		s.Cap = max(c, s.Delay)
	}
	return s.Total()
}

func (s *spawn) covers(started time.Time) bool {
	return !started.Before(s.t.Add(-restartWindowTolerance)) && started.Before(s.t.Add(s.reach))
}

// judge fills in each lifetime's verdict: the origin's 3-state restart
// table (pre-restart, first-line, installed) generalised to every way a
// lifetime can end. It returns the lifetimes that left no record of their
// own: processes a restart started that never ran their first instruction.
func judge(lts []*Lifetime, o LoadOptions) []*Lifetime {
	var spawns []*spawn
	for _, lt := range lts {
		var last *spawn
		var started *Event // the starter's "started" step
		for i, ev := range lt.events {
			t, _ := ev.Time()
			switch ev.Event {
			case EvPreRestart:
				if ev.Strategy == health.StrategyExec {
					last = &spawn{pid: lt.PID, t: t, by: lt.ID, exec: true, reach: reachOf(nil)}
					spawns = append(spawns, last)
				}
			case EvResumed:
				// The exec failed and the old image served on.
				if last != nil && last.exec && len(spawns) > 0 && spawns[len(spawns)-1] == last {
					spawns = spawns[:len(spawns)-1]
					last = nil
				}
			case EvHelper:
				pid := ev.PID
				switch ev.Step {
				case "started":
					started = &lt.events[i]
				case "spawned":
					last = &spawn{pid: pid, t: t, by: lt.ID, reach: reachOf(started)}
					spawns = append(spawns, last)
				case "killed":
					for _, s := range spawns {
						if s.pid == pid && s.by == lt.ID {
							s.killed, s.outcome = true, ev.Detail
						}
					}
				}
			}
		}
	}
	for _, s := range spawns {
		for _, lt := range lts { // oldest first: the first match is the next one
			if lt.PID == s.pid && s.covers(lt.StartedAt) && lt.ID != s.by {
				s.next = lt.ID
				break
			}
		}
	}
	for _, lt := range lts {
		lt.judge(o, spawns)
	}
	// A spawned process that never wrote its first line: killed before its
	// first instruction (in execve or the loader), as in the origin's table.
	var synthetic []*Lifetime
	for _, s := range spawns {
		if s.next != "" || (!s.killed && o.Alive(s.pid, 0) && !s.exec) {
			continue
		}
		what := "the restart helper spawned it"
		if s.exec {
			what = "the old image exec'd it in place"
		}
		synth := &Lifetime{
			ID: s.t.UTC().Format("20060102T150405.000000Z") + "-" + strconv.Itoa(s.pid) + "~", PID: s.pid, StartedAt: s.t,
			Verdict:  KilledInRestartWindow,
			Summary:  fmt.Sprintf("killed in the restart window before its first instruction: %s at %s, but it never wrote its first-line marker", what, s.t.Local().Format("15:04:05.000")),
			Evidence: []string{"pre-restart/helper record in lifetime " + s.by, "no first-line marker from pid " + strconv.Itoa(s.pid)},
			Hint:     restartHint,
		}
		if s.outcome != "" {
			synth.Evidence = append(synth.Evidence, "helper: "+s.outcome)
		}
		synthetic = append(synthetic, synth)
	}
	return synthetic
}

// PhantomHint is the fix for a SIGKILL from outside on Android: the
// phantom process killer's setting, and a wake lock.
const PhantomHint = "on Android 12+, disable the phantom process killer: adb shell settings put global settings_enable_monitor_phantom_procs false (Android 14+: Developer options > Disable child process restrictions); keep a wake lock (termux-wake-lock)"

const restartHint = "Android kills a process started within ~10s of the previous one's exit in the same cgroup; the delayed restart waits this out (restart_delay)"

// livedAtLeast: a lifetime that ended without an exit record lived at
// least until its last event, or its record's last heartbeat (to within
// HeartbeatEvery).
func (lt *Lifetime) livedAtLeast() (evidence []string) {
	if len(lt.events) == 0 {
		return nil
	}
	lt.LivedAtLeast = true
	last := lt.events[len(lt.events)-1]
	if t, ok := last.Time(); ok {
		if lt.Verdict == KilledUntraced {
			evidence = append(evidence, "last event "+last.Event+" at "+t.Local().Format("15:04:05.000"))
		}
		lt.LivedS = max(lt.LivedS, t.Sub(lt.StartedAt).Seconds())
	}
	if st, err := os.Stat(lt.Record); err == nil && st.ModTime().Sub(lt.StartedAt).Seconds() > lt.LivedS {
		lt.LivedS = st.ModTime().Sub(lt.StartedAt).Seconds()
		if lt.Verdict == KilledUntraced {
			evidence = append(evidence, "last heartbeat "+st.ModTime().Local().Format("15:04:05"))
		}
	}
	return evidence
}

// fmtLived is a lifetime's length for people; "≥" marks a lower bound.
func fmtLived(s float64, atLeast bool) string {
	d := time.Duration(s * float64(time.Second))
	var out string
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		out = d.Round(time.Millisecond).String()
	case d < time.Hour:
		out = d.Round(time.Second).String()
	default:
		out = d.Round(time.Minute).String()
	}
	if atLeast {
		out = "≥ " + out
	}
	return out
}

// superseded: an exec restart keeps the pid, so the old image's record
// must not look "running" once a newer lifetime has the pid.
func (lt *Lifetime) superseded(spawns []*spawn) bool {
	for _, s := range spawns {
		if s.exec && s.by == lt.ID {
			return true
		}
	}
	return false
}
