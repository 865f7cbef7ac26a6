package platform

import (
	"strings"

	"github.com/termux-webui/webui/internal/health"
)

// Strategy picks the restart path for mode ("auto", "exec", "delayed",
// "supervisor") and says why in one short sentence naming the evidence.
//
// An explicit mode is returned as is. For "auto" (or ""):
//   - runit or systemd supervises the process: "supervisor" (on Android the
//     run script honours the "not before" time the old process leaves);
//   - in a container: "exec", so pid 1 and the container live on;
//   - Android (GOOS=android, Android cgroups or variables, also inside PRoot):
//     "delayed", because a process started within ~10s of an exit is killed;
//   - anything else: "exec".
//
// An unknown mode is treated as "auto", and the reason says so.
func (r Report) Strategy(mode string) (strategy health.Strategy, why string) {
	m := health.Strategy(strings.ToLower(strings.TrimSpace(mode)))
	switch m {
	case health.StrategyExec, health.StrategyDelayed, health.StrategySupervisor:
		return m, "set by restart_mode=" + string(m)
	case "", "auto":
		return r.auto()
	default:
		s, why := r.auto()
		return s, "unknown restart_mode=" + clipN(mode, 32) + ", using auto: " + why
	}
}

func (r Report) auto() (health.Strategy, string) {
	switch r.Supervisor {
	case health.SupervisorRunit, health.SupervisorSystemd:
		why := r.Supervisor + " supervises this process (" + first(r.SupervisorEvidence) + "): exit and let it start the new binary"
		if r.Android.Value {
			why += " after Android's kill window"
		}
		return health.StrategySupervisor, why
	case health.SupervisorDocker:
		return health.StrategyExec, "in a container (" + first(r.SupervisorEvidence) + "): exec in place keeps the process and the container alive"
	}
	if r.Android.Value {
		where := "Android detected"
		if r.PRoot.Value {
			where = "Android detected under PRoot"
		}
		return health.StrategyDelayed, where + " (" + short(first(r.Android.Evidence)) + "): new processes started within ~10s of an exit are killed, so wait out the window"
	}
	return health.StrategyExec, "not Android and no supervisor: exec in place keeps the pid and the listening socket"
}

func first(ev []string) string {
	if len(ev) == 0 {
		return "no evidence"
	}
	return ev[0]
}

// short turns "/proc/self/cgroup: 0::/apps/..." into "cgroup 0::/apps/...".
func short(ev string) string {
	if rest, ok := strings.CutPrefix(ev, "/proc/self/cgroup: "); ok {
		return "cgroup " + rest
	}
	return ev
}
