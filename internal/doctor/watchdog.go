package doctor

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/update"
)

type watchdogInput struct {
	Termux, PRoot bool
	ServerPID     int
	// Supervisor keeps the running server: "runit", "systemd" or "".
	Supervisor string
	Watchdog   ctl.WatchdogStatus
}

func checkWatchdog(_ context.Context, p *Probes) Check {
	in := watchdogInput{Termux: p.termux(), PRoot: p.Platform.PRoot.Value, ServerPID: p.Server(), Watchdog: p.Watchdog()}
	if in.ServerPID > 0 {
		in.Supervisor = supervisorOf(p, in.ServerPID)
	}
	return decideWatchdog(in)
}

// supervisorOf: the server's parent is runsv (termux-services), or its
// cgroup is a systemd service.
func supervisorOf(p *Probes, pid int) string {
	if b, err := p.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				if comm, err := p.ReadFile("/proc/" + f[1] + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "runsv" {
					return health.SupervisorRunit
				}
			}
		}
	}
	if b, err := p.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup"); err == nil && strings.Contains(string(b), ".service") {
		return health.SupervisorSystemd
	}
	return ""
}

func decideWatchdog(in watchdogInput) Check {
	c := Check{ID: "watchdog", Status: OK}
	switch {
	case in.Supervisor == health.SupervisorRunit:
		c.Summary = fmt.Sprintf("termux-services (runsv) supervises webui (pid %d)", in.ServerPID)
		return c
	case in.Supervisor == health.SupervisorSystemd:
		c.Summary = fmt.Sprintf("systemd supervises webui (pid %d)", in.ServerPID)
		return c
	case in.Watchdog.Running:
		c.Summary = fmt.Sprintf("the webui watchdog (pid %d) brings webui back when /health goes dark", in.Watchdog.PID)
		return c
	}
	c.Status = Warn
	if in.ServerPID > 0 {
		c.Summary = fmt.Sprintf("nothing brings webui (pid %d) back if it dies: no watchdog, no supervisor", in.ServerPID)
	} else {
		c.Summary = "webui is not running, and no watchdog or supervisor would start it"
	}
	switch {
	case in.Termux:
		c.Fix = "`webui-watchdog-loop` starts the watchdog now; `webui boot enable` runs it at every boot (or use termux-services: `sv-enable webui`, not both)"
	case in.PRoot:
		c.Fix = "run `webui watchdog` in the background (proot-distro has no systemd), for example from a Termux:Boot script"
	default:
		c.Fix = "`sudo systemctl enable --now webui` (the package's unit), or run `webui watchdog` under your own supervisor"
	}
	return c
}

type updateInput struct {
	Status update.Status
	Err    error
	// The last check of the feed: HasCheck false when none ran here.
	Check    update.CheckResult
	HasCheck bool
	CheckErr error
}

func checkUpdate(_ context.Context, p *Probes) Check {
	var in updateInput
	in.Status, in.Err = p.UpdateStatus()
	in.Check, in.HasCheck, in.CheckErr = p.LastCheck()
	return decideUpdate(in)
}

// lastCheck says what the last check of the feed found, "" when none ran.
// A failed check is a warning: updates cannot reach this device.
func lastCheck(in updateInput) (summary, fix string, warn bool) {
	ch := in.Check
	when := ch.CheckedAt.Local().Format("2006-01-02 15:04")
	switch {
	case in.CheckErr != nil:
		return "cannot read the last update check: " + in.CheckErr.Error(), "`webui update check` writes it anew", true
	case !in.HasCheck:
		return "", "", false
	case ch.Apt != nil:
		return "apt keeps webui current: `" + ch.Apt.Command + "`", "", false
	case ch.Error != "":
		return "the last update check (" + when + ") failed: " + ch.Error,
			"`webui update check` to try again; the dns and tls checks say whether the network is the cause", true
	case ch.Available:
		return "webui " + ch.Latest + " is available (checked " + when + ")", "`webui update apply`, or the console's Updates page", false
	}
	return "webui " + ch.Current + " is the latest release (checked " + when + ")", "", false
}

func decideUpdate(in updateInput) Check {
	c := Check{ID: "update", Status: OK, Value: in.Status.State}
	st := in.Status
	msg := st.Message
	if !st.UpdatedAt.IsZero() {
		msg += " (" + st.UpdatedAt.Local().Format("2006-01-02 15:04") + ")"
	}
	switch {
	case in.Err != nil:
		c.Status, c.Summary = Warn, "cannot read the last update's status: "+in.Err.Error()
		c.Fix = "`webui update status`; the next update rewrites it"
	case st.State == update.StateFailed || st.State == update.StateRolledBack:
		c.Status = Warn
		c.Summary = "the last update did not complete: " + st.State + ": " + msg
		c.Fix = "`webui update check`, then `webui update apply` to try again; `webui diagnose` shows what happened"
	case update.Busy(st.State):
		c.Summary = "an update is in progress: " + st.State + ": " + msg
	case st.State == update.StateDone:
		c.Summary = "the last update succeeded: " + msg
	default:
		c.Summary = "no update has run yet"
		if st.Message != "" && st.Message != "no update has run" {
			c.Summary = st.Message
		}
	}
	if c.Status != OK || update.Busy(st.State) {
		return c
	}
	sum, fix, warn := lastCheck(in)
	if sum == "" {
		c.Summary += "; no update check has run yet: `webui update check` asks the feed"
		return c
	}
	c.Summary += "; " + sum
	if warn {
		c.Status = Warn
	}
	if fix != "" {
		c.Fix = fix
	}
	return c
}
