package platform

import (
	"fmt"
	"strings"

	"github.com/termux-webui/webui/internal/health"
)

// Summary is the short form for /health.
func (r Report) Summary() health.Platform {
	return health.Platform{OS: r.GOOS, Arch: r.GOARCH, Termux: r.Termux.Value, Android: r.Android.Value,
		PRoot: r.PRoot.Value, Supervisor: r.Supervisor, AndroidVersion: r.AndroidVersion}
}

// Text is the report for people, one fact per line with its evidence, as
// printed by `webui platform`.
func (r Report) Text() string {
	var b strings.Builder
	line := func(name, value string, ev []string) {
		fmt.Fprintf(&b, "%-16s %s", name, value)
		if len(ev) > 0 {
			fmt.Fprintf(&b, "  (%s)", strings.Join(ev, "; "))
		}
		b.WriteByte('\n')
	}
	line("os/arch", r.GOOS+"/"+r.GOARCH, nil)
	line("termux", yesNo(r.Termux.Value), r.Termux.Evidence)
	if r.Prefix != "" {
		line("prefix", r.Prefix, nil)
	}
	line("android", yesNo(r.Android.Value), r.Android.Evidence)
	if r.AndroidVersion != "" {
		line("android version", r.AndroidVersion, nil)
	}
	if c := r.Cgroup; c.App != "" || c.UID != 0 || c.PID != 0 {
		var parts []string
		if c.App != "" {
			parts = append(parts, "app="+c.App)
		}
		if c.UID != 0 || c.PID != 0 {
			parts = append(parts, fmt.Sprintf("uid=%d pid=%d", c.UID, c.PID))
		}
		line("android cgroup", strings.Join(parts, " "), nil)
	}
	line("proot", yesNo(r.PRoot.Value), r.PRoot.Evidence)
	line("supervisor", r.Supervisor, r.SupervisorEvidence)
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
