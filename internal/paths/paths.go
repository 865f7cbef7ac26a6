// Package paths chooses the default config, state, log and run locations for
// the platform webui runs on, and the names of the files in them. It imports
// only os, strconv and strings so that the first-line marker can use it
// before anything heavier is initialised.
package paths

import (
	"os"
	"strings"
)

// TermuxPrefix is where Termux installs packages on every Android device.
const TermuxPrefix = "/data/data/com.termux/files/usr"

// Kind names the family of defaults that applied.
type Kind string

// The families of defaults.
const (
	Termux Kind = "termux" // $PREFIX/etc, $PREFIX/var/...
	System Kind = "system" // root or a system account: /etc, /var/lib, /run
	User   Kind = "user"   // an ordinary user: the XDG directories
)

// Paths are the per-platform defaults. Every one can be overridden.
type Paths struct {
	Kind       Kind
	Prefix     string // Termux $PREFIX, "" elsewhere
	ConfigFile string
	StateDir   string
	LogDir     string
	RunDir     string
	TempDir    string
}

// Defaults works out the defaults from the environment and the effective uid.
// getenv is injected so tests can describe any platform.
func Defaults(getenv func(string) string, euid int) Paths {
	if prefix, ok := TermuxPrefixFrom(getenv); ok {
		return Paths{
			Kind:       Termux,
			Prefix:     prefix,
			ConfigFile: prefix + "/etc/webui/webui.conf",
			StateDir:   prefix + "/var/lib/webui",
			LogDir:     prefix + "/var/log/webui",
			RunDir:     prefix + "/var/run",
			TempDir:    prefix + "/tmp", // never /tmp: Android has none
		}
	}
	// Root and system accounts (uid < 1000, such as the packaged "webui" user
	// that the systemd unit runs as) get the FHS locations.
	if euid >= 0 && euid < 1000 {
		return Paths{
			Kind:       System,
			ConfigFile: "/etc/webui/webui.conf",
			StateDir:   "/var/lib/webui",
			LogDir:     "/var/log/webui",
			RunDir:     "/run/webui",
			TempDir:    tempDir(getenv),
		}
	}
	home := getenv("HOME")
	if home == "" {
		home = "."
	}
	cfgHome := xdg(getenv, "XDG_CONFIG_HOME", home+"/.config")
	stateHome := xdg(getenv, "XDG_STATE_HOME", home+"/.local/state")
	state := stateHome + "/webui"
	run := state + "/run"
	if rt := getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(rt, "/") {
		run = rt + "/webui"
	}
	return Paths{
		Kind:       User,
		ConfigFile: cfgHome + "/webui/webui.conf",
		StateDir:   state,
		LogDir:     state + "/log",
		RunDir:     run,
		TempDir:    tempDir(getenv),
	}
}

// TermuxPrefixFrom reports whether the environment is Termux's, and its prefix.
// Termux sets TERMUX_VERSION and PREFIX; PREFIX alone counts when it is the
// Termux app's data directory.
func TermuxPrefixFrom(getenv func(string) string) (string, bool) {
	prefix := strings.TrimRight(getenv("PREFIX"), "/")
	if getenv("TERMUX_VERSION") != "" {
		if prefix == "" {
			prefix = TermuxPrefix
		}
		return prefix, true
	}
	if strings.Contains(prefix, "/com.termux/") {
		return prefix, true
	}
	return "", false
}

// FromEnviron is Defaults for the running process.
func FromEnviron() Paths { return Defaults(os.Getenv, os.Geteuid()) }

func xdg(getenv func(string) string, name, fallback string) string {
	// The XDG spec says relative values are invalid and must be ignored.
	if v := getenv(name); strings.HasPrefix(v, "/") {
		return strings.TrimRight(v, "/")
	}
	return fallback
}

func tempDir(getenv func(string) string) string {
	if v := getenv("TMPDIR"); v != "" {
		return v
	}
	return "/tmp"
}

// Hosted apps: their files beside the config file, and each app's lock,
// record and logs in a subdirectory of the run and log dirs.
const (
	AppsDirName = "apps.d" // beside webui.conf: one NAME.conf per app
	AppsSubdir  = "apps"   // in the run, log and lifetimes dirs
	AppLogExt   = ".log"   // <log>/apps/NAME.log: the app's stdout and stderr
	AppLockExt  = ".lock"  // <run>/apps/NAME.lock: held by the app's process while it lives
	AppRecExt   = ".json"  // <run>/apps/NAME.json: what adopting the process needs
)

// AppsDir is the apps.d directory beside the config file.
func AppsDir(configFile string) string {
	dir := "."
	if i := strings.LastIndexByte(configFile, '/'); i >= 0 {
		dir = configFile[:i]
		if dir == "" {
			dir = "/"
		}
	}
	return strings.TrimRight(dir, "/") + "/" + AppsDirName
}

// AppLifetimes is the file of app name's process lifetimes.
func (l Lifetimes) AppLifetimes(name string) string {
	return join(join(string(l), AppsSubdir), name+RecordExt)
}

// AppsRun is the run dir's subdirectory for the apps' locks and records.
func (r Run) AppsRun() string { return join(string(r), AppsSubdir) }

// AppLock is the lock app name's process holds while it lives.
func (r Run) AppLock(name string) string { return join(r.AppsRun(), name+AppLockExt) }

// AppRecord is app name's adoption record.
func (r Run) AppRecord(name string) string { return join(r.AppsRun(), name+AppRecExt) }

// AppLog is app name's log.
func (l Log) AppLog(name string) string { return join(join(string(l), AppsSubdir), name+AppLogExt) }
