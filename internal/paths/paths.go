// Package paths chooses the default config, state, log and run locations for
// the platform webui runs on. It imports only os and strings so that the
// first-line marker can use it before anything heavier is initialised.
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

// State is a state directory. Its methods name the files that several
// processes (the server, the CLI, the restart helper) must agree on.
type State string

// The secrets in the state directory, each mode 0600.
const (
	TokenFileName      = "token"            // the owner's access token
	SessionKeyFileName = "session.key"      // HMAC key that signs session cookies
	PasswordFileName   = "password_hash"    // the login password's hash (`webui passwd`)
	RevokedFileName    = "sessions.revoked" // sessions logged out before they expire
)

// Token is the owner's access token file.
func (s State) Token() string { return s.join(TokenFileName) }

// SessionKey is the file of the key that signs session cookies.
func (s State) SessionKey() string { return s.join(SessionKeyFileName) }

// Password is the login password hash file.
func (s State) Password() string { return s.join(PasswordFileName) }

// Revoked lists the logged-out sessions that have not expired yet.
func (s State) Revoked() string { return s.join(RevokedFileName) }

func (s State) join(name string) string { return strings.TrimRight(string(s), "/") + "/" + name }

// Run is a run directory: the pid files and locks that say who runs.
type Run string

// PIDFileName is the server's pid file, held under flock for its life.
const PIDFileName = "webui.pid"

// PIDFile is the server's pid file.
func (r Run) PIDFile() string { return strings.TrimRight(string(r), "/") + "/" + PIDFileName }

// Hosted apps: their files beside the config file, and each app's lock,
// record and logs in a subdirectory of the run and log dirs.
const (
	AppsDirName = "apps.d" // beside webui.conf: one NAME.conf per app
	AppsSubdir  = "apps"   // in the run, log and lifetimes dirs
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
