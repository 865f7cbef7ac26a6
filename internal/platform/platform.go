// Package platform works out what webui runs on: Termux, Android (directly or
// through a PRoot distro), which supervisor (systemd, runit, Docker) owns the
// process, and the Android cgroup the process sits in. Every fact carries the
// evidence it was drawn from, so `webui platform` and /health can show why.
//
// Detection is pure: Detect reads only the roots and the environment in the
// Env it is given, so tests describe any platform with a temporary directory.
// Missing or unreadable files are not errors; they leave a fact false. The
// restart engine asks Report.Strategy which restart path survives here.
package platform

import (
	"os"
	"runtime"
)

// Fact is one yes/no finding and what it was based on.
type Fact struct {
	Value bool `json:"value"`
	// Evidence says where the finding came from, one item per source, for
	// example "env TERMUX_VERSION=0.118.1" or "/proc/self/cgroup: 3:cpuset:/top-app".
	Evidence []string `json:"evidence,omitempty"`
}

// Cgroup is what /proc/self/cgroup says about the process. App, UID and PID
// are set only when the Android layouts are present.
type Cgroup struct {
	// App is the Android scheduling group from the cpuset (or schedtune)
	// line: "top-app", "foreground", "background", "system-background", ...
	App string `json:"app,omitempty"`
	// UID and PID come from the "0::/uid_N/pid_M" or "0::/apps/uid_N/pid_M" line.
	UID int `json:"uid,omitempty"`
	PID int `json:"pid,omitempty"`
	// Raw holds the lines of /proc/self/cgroup as read (capped, sanitised).
	Raw []string `json:"raw,omitempty"`
}

// Report is the set of facts about the platform, read once at startup.
type Report struct {
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`

	// Termux: TERMUX_VERSION, a PREFIX inside the Termux app, or an
	// executable under the Termux app's data directory.
	Termux Fact `json:"termux"`
	// Android: Android cgroup lines, ANDROID_ROOT/ANDROID_DATA,
	// /system/build.prop, GOOS=android, or Termux itself.
	Android Fact `json:"android"`
	// PRoot: TracerPid in /proc/self/status names a process called proot.
	PRoot Fact `json:"proot"`

	// Supervisor is one of the health.Supervisor names.
	Supervisor string `json:"supervisor"`
	// SupervisorEvidence says why, including signs that were seen and
	// rejected (for example systemd variables inherited by a shell).
	SupervisorEvidence []string `json:"supervisor_evidence,omitempty"`

	Cgroup Cgroup `json:"cgroup"`

	// AndroidVersion is ro.build.version.release from /system/build.prop
	// when it is readable, "" otherwise.
	AndroidVersion string `json:"android_version,omitempty"`
	// Prefix is the Termux $PREFIX when Termux was detected, "" otherwise.
	Prefix string `json:"prefix,omitempty"`
}

// Env is everything Detect may look at. A zero field means "not available":
// an empty ProcRoot or FSRoot skips the reads below it, a nil Getenv is an
// empty environment, and a zero PID or PPID is unknown.
type Env struct {
	ProcRoot string // normally "/proc"
	FSRoot   string // normally "/" (for /system/build.prop, /.dockerenv)
	Getenv   func(string) string
	GOOS     string // normally runtime.GOOS
	GOARCH   string // normally runtime.GOARCH
	PID      int    // normally os.Getpid()
	PPID     int    // normally os.Getppid()
}

// CurrentEnv is the Env of the running process.
func CurrentEnv() Env {
	return Env{
		ProcRoot: "/proc",
		FSRoot:   "/",
		Getenv:   os.Getenv,
		GOOS:     runtime.GOOS,
		GOARCH:   runtime.GOARCH,
		PID:      os.Getpid(),
		PPID:     os.Getppid(),
	}
}
