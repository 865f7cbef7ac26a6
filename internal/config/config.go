// Package config loads webui's settings. Precedence, highest first: command
// line flags, WEBUI_* environment variables, the config file, the defaults.
// Every setting has the same meaning in all four places.
//
// The config file is plain "key = value" lines with # comments, so it can be
// edited with nano on a phone. Unknown keys, malformed lines and bad values are
// errors that name the file, the line, what is wrong and what is allowed.
package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
)

// Config is the resolved configuration of one process.
type Config struct {
	Addr       string
	ConfigFile string
	StateDir   string
	LogDir     string
	RunDir     string
	TempDir    string

	RestartMode     string
	RestartDelay    time.Duration
	RestartSurvive  time.Duration
	RestartAttempts int

	UpdateURL      string
	UpdateKeys     []string
	UpdateChannel  string
	UpdateInterval time.Duration

	Diagnostics     bool
	DiagKeep        int
	DiagMaxBytes    int64
	PasswordHash    string
	PublicURL       string
	AllowedHosts    []string
	LogLevel        string
	LogStderr       string
	LogMaxSizeMB    int
	LogMaxFiles     int
	AccessLog       bool
	MaxConns        int
	MaxHeaderBytes  int
	ReadHeaderTime  time.Duration
	ReadBodyTimeout time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	MinFreeMB       int64
	StallAfter      time.Duration

	// exposedSecret names the config file when it holds password_hash and
	// others may read it; Check refuses to serve then.
	exposedSecret string

	// Platform is the family of default paths that applied.
	Platform paths.Paths
	// Source says where each key's value came from: "default", "file:N",
	// "env" or "flag".
	Source map[string]string
}

// Error is a configuration problem. Its message is one line that says where,
// what is wrong and what is allowed.
type Error struct {
	Msg  string
	Line int // the file line it is about, when it is about one
}

func (e *Error) Error() string { return e.Msg }

// ErrHelp is returned when --help was asked for; the usage has been printed.
var ErrHelp = flag.ErrHelp

// Check enforces the rules that span settings. The public-bind rule lives here
// so every entry point refuses the same way.
func (c *Config) Check() error {
	if c.exposedSecret != "" && c.Source["password_hash"] != "state" && c.Source["password_hash"] != "env" {
		return &Error{Msg: fmt.Sprintf("config file %s holds password_hash and others may read it: "+
			"run `webui passwd` as the file's owner to move the password to the state dir (0600), or chmod 600 the file", c.exposedSecret)}
	}
	if a, err := health.ParseAddr(c.Addr); (err != nil || !a.IsLoopback()) && c.PasswordHash == "" {
		return &Error{Msg: fmt.Sprintf("refusing to listen on %s without a password: anyone on the network could control webui. "+
			"Run `webui passwd` to set one, or bind to loopback with --addr 127.0.0.1:8787", c.Addr)}
	}
	return nil
}

// Sorted returns the settings as key/value pairs for display.
func (c *Config) Sorted() [][2]string {
	vals := map[string]string{
		"addr": c.Addr, "state_dir": c.StateDir, "log_dir": c.LogDir, "run_dir": c.RunDir,
		"restart_mode": c.RestartMode, "restart_delay": c.RestartDelay.String(),
		"restart_survive": c.RestartSurvive.String(), "restart_attempts": strconv.Itoa(c.RestartAttempts),
		"update_url": c.UpdateURL, "update_keys": strings.Join(c.UpdateKeys, ","),
		"update_channel": c.UpdateChannel, "update_interval": c.UpdateInterval.String(),
		"diagnostics": onOff(c.Diagnostics), "diag_keep": strconv.Itoa(c.DiagKeep),
		"diag_max_bytes": strconv.FormatInt(c.DiagMaxBytes, 10), "password_hash": redact(c.PasswordHash),
		"public_url": c.PublicURL, "read_body_timeout": c.ReadBodyTimeout.String(),
		"allowed_hosts": strings.Join(c.AllowedHosts, ","), "log_level": c.LogLevel, "log_stderr": c.LogStderr,
		"log_max_size_mb": strconv.Itoa(c.LogMaxSizeMB), "log_max_files": strconv.Itoa(c.LogMaxFiles),
		"access_log": onOff(c.AccessLog), "max_conns": strconv.Itoa(c.MaxConns),
		"max_header_bytes": strconv.Itoa(c.MaxHeaderBytes), "read_header_timeout": c.ReadHeaderTime.String(),
		"idle_timeout": c.IdleTimeout.String(), "shutdown_timeout": c.ShutdownTimeout.String(),
		"min_free_mb": strconv.FormatInt(c.MinFreeMB, 10), "stall_after": c.StallAfter.String(),
	}
	out := make([][2]string, 0, len(vals))
	for _, k := range Keys() {
		out = append(out, [2]string{k, vals[k]})
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "(set)"
}
