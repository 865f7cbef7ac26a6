package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/termux-webui/webui/internal/paths"
)

// Android's phantom process killer allows 32 child processes across apps.
const (
	phantomLimit = 32
	phantomNear  = 24
)

type processesInput struct {
	Android bool
	Count   int
	Apps    int // of Count, the hosted apps' processes and their children
	Err     error
}

func checkProcesses(_ context.Context, p *Probes) Check {
	in := processesInput{Android: p.Platform.Android.Value}
	ps, err := p.Procs()
	in.Count, in.Err = len(ps), err
	if err == nil && p.Config != nil {
		in.Apps = appProcesses(ps, appPIDs(p, paths.Run(p.Config.RunDir).AppsRun()))
	}
	return decideProcesses(in)
}

// appPIDs are the hosted apps' pids, from their adoption records
// (<run>/apps/NAME.json).
func appPIDs(p *Probes, dir string) map[int]bool {
	ents, err := p.ReadDir(dir)
	if err != nil {
		return nil
	}
	pids := map[int]bool{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), paths.AppRecExt) {
			continue
		}
		var rec struct {
			PID int `json:"pid"`
		}
		if b, err := p.ReadFile(filepath.Join(dir, e.Name())); err == nil && json.Unmarshal(b, &rec) == nil && rec.PID > 0 {
			pids[rec.PID] = true
		}
	}
	return pids
}

// appProcesses counts the processes in ps that are an app's or descend
// from one: each counts toward Android's limit.
func appProcesses(ps []Proc, roots map[int]bool) int {
	if len(roots) == 0 {
		return 0
	}
	parent := make(map[int]int, len(ps))
	for _, pr := range ps {
		parent[pr.PID] = pr.PPID
	}
	n := 0
	for _, pr := range ps {
		for pid, hops := pr.PID, 0; pid > 1 && hops < 64; pid, hops = parent[pid], hops+1 {
			if roots[pid] {
				n++
				break
			}
		}
	}
	return n
}

func decideProcesses(in processesInput) Check {
	c := Check{ID: "processes", Status: OK, Value: in.Count}
	apps := "hosted apps count too"
	if in.Apps > 0 {
		apps = fmt.Sprintf("%d of them the hosted apps' processes, which count too", in.Apps)
	}
	switch {
	case in.Err != nil:
		c.Status, c.Summary, c.Value = Warn, "cannot list processes: "+in.Err.Error(), nil
		c.Fix = "check that /proc is mounted and readable"
	case !in.Android:
		c.Summary = fmt.Sprintf("%s (no Android process limit); this user runs %d processes", NotApplicable, in.Count)
	case in.Count >= phantomLimit:
		c.Status = Warn
		c.Summary = fmt.Sprintf("%d processes of this user, past Android's limit of %d: the phantom process killer SIGKILLs the excess (%s)", in.Count, phantomLimit, apps)
		c.Fix = "close Termux sessions and background jobs you do not need, or turn the killer off (see phantom)"
	case in.Count >= phantomNear:
		c.Status = Warn
		c.Summary = fmt.Sprintf("%d processes of this user, near Android's limit of %d (%s)", in.Count, phantomLimit, apps)
		c.Fix = "close Termux sessions and background jobs you do not need, or turn the phantom process killer off (see phantom)"
	default:
		c.Summary = fmt.Sprintf("%d processes of this user, under Android's limit of %d (%s)", in.Count, phantomLimit, apps)
	}
	return c
}

type servicesInput struct {
	Termux bool
	// Runsv: a runsv process supervises webui (termux-services).
	Runsv bool
	// Loop: the watchdog loop runs, or a watchdog holds this instance's
	// watchdog pid file.
	Loop bool
	// SvEnabled: $PREFIX/var/service/webui exists without a down file.
	SvEnabled bool
	// BootEnabled: the Termux:Boot script is there (it starts the loop).
	BootEnabled bool
}

func checkServices(_ context.Context, p *Probes) Check {
	in := servicesInput{Termux: p.termux()}
	if in.Termux {
		in.Loop = p.Watchdog().Running
		ps, _ := p.Procs()
		for _, pr := range ps {
			if pr.PID == p.Self {
				continue
			}
			in.Runsv = in.Runsv || (pr.Comm == "runsv" && len(pr.Args) > 1 && pr.Args[1] == "webui")
			in.Loop = in.Loop || isWatchdogLoop(pr.Args)
		}
		if pre := p.prefix(); pre != "" {
			svc := filepath.Join(pre, "var", "service", "webui")
			if _, err := p.Stat(svc); err == nil {
				_, down := p.Stat(filepath.Join(svc, "down"))
				in.SvEnabled = down != nil
			}
		}
		if home := p.Getenv("HOME"); home != "" {
			_, err := p.Stat(filepath.Join(home, ".termux", "boot", "webui"))
			in.BootEnabled = err == nil
		}
	}
	return decideServices(in)
}

// isWatchdogLoop: argv of the watchdog loop script (sh webui-watchdog-loop).
func isWatchdogLoop(args []string) bool {
	const loop = "webui-watchdog-loop"
	switch {
	case len(args) > 0 && filepath.Base(args[0]) == loop:
		return true
	case len(args) > 1 && filepath.Base(args[1]) == loop:
		switch filepath.Base(args[0]) {
		case "sh", "dash", "bash", "ash":
			return true
		}
	}
	return false
}

func decideServices(in servicesInput) Check {
	c := Check{ID: "services", Status: OK}
	const fix = "keep one: `sv-disable webui` (keep the watchdog loop and Termux:Boot), or `webui boot disable` and `webui ctl stop --watchdog` (keep termux-services)"
	var using []string
	switch {
	case !in.Termux:
		c.Summary = NotApplicable + " (termux-services is Termux's)"
		return c
	case in.Runsv && in.Loop:
		c.Status, c.Fix = Warn, fix
		c.Summary = "both termux-services (runsv webui) and the watchdog loop keep webui up: they fight over every restart"
		return c
	case in.SvEnabled && in.BootEnabled:
		c.Status, c.Fix = Warn, fix
		c.Summary = "both termux-services (sv-enable webui) and the Termux:Boot script start webui: they will fight over every restart"
		return c
	}
	if in.Runsv || in.SvEnabled {
		using = append(using, "termux-services")
	}
	if in.Loop || in.BootEnabled {
		using = append(using, "the watchdog loop")
	}
	if len(using) == 0 {
		c.Summary = "neither termux-services nor the watchdog loop runs webui (see watchdog)"
	} else {
		c.Summary = "only " + strings.Join(using, " and ") + " keeps webui up, as it should be"
	}
	return c
}
