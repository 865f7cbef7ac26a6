package doctor

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/termux-webui/webui/internal/ctl"
)

const fixBootApp = "install Termux:Boot (from the same store as Termux) and open it once, or Android never runs its scripts"

type bootInput struct {
	Termux bool
	Home   string
	State  ctl.BootState
	Err    error
	// Exec: the script has an execute bit.
	Exec bool
	// NotFiles are entries of ~/.termux/boot that are not regular files
	// (one stops Termux:Boot's loop).
	NotFiles []string
}

func checkBoot(_ context.Context, p *Probes) Check {
	in := bootInput{Termux: p.termux(), Home: p.Getenv("HOME")}
	if in.Termux && in.Home != "" {
		in.State, in.Err = ctl.BootStatus(in.Home)
		if st, err := p.Stat(in.State.Path); err == nil {
			in.Exec = st.Mode().Perm()&0o100 != 0
		}
		if ents, err := p.ReadDir(filepath.Dir(in.State.Path)); err == nil {
			for _, e := range ents {
				if !e.Type().IsRegular() {
					in.NotFiles = append(in.NotFiles, e.Name())
				}
			}
		}
	}
	return decideBoot(in)
}

func decideBoot(in bootInput) Check {
	c := Check{ID: "boot", Status: OK}
	switch {
	case !in.Termux:
		c.Summary = NotApplicable + " (Termux:Boot starts Termux programs only)"
		return c
	case in.Home == "":
		c.Status, c.Summary, c.Fix = Warn, "HOME is not set: cannot find ~/.termux/boot", "run doctor from a Termux shell"
		return c
	case in.Err != nil:
		c.Status, c.Summary, c.Fix = Warn, in.Err.Error(), "`webui boot enable`"
		return c
	case !in.State.Enabled:
		c.Status = Warn
		c.Summary = "no Termux:Boot script (" + in.State.Path + "): webui will not start after a reboot"
		c.Fix = "`webui boot enable`; " + fixBootApp
	case !in.State.Current:
		c.Status = Warn
		c.Summary = in.State.Path + " is stale: not the script this version of webui writes"
		c.Fix = "`webui boot enable` (rewrites it); " + fixBootApp
	case !in.Exec:
		c.Status = Warn
		c.Summary = in.State.Path + " is not executable: Termux:Boot skips it"
		c.Fix = "`webui boot enable` (repairs the mode)"
	default:
		c.Summary = "Termux:Boot script in place (" + in.State.Path + "): it takes a wake lock and starts webui with its watchdog"
		c.Fix = ""
	}
	if len(in.NotFiles) > 0 {
		c.Status = Warn
		c.Summary += "; ~/.termux/boot holds entries that are not files (" + strings.Join(in.NotFiles, ", ") + "), which stop Termux:Boot's loop"
		if c.Fix != "" {
			c.Fix += "; "
		}
		c.Fix += "move them out of ~/.termux/boot"
	}
	return c
}
