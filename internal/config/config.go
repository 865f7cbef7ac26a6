// Package config loads webui's settings. Precedence, highest first: command
// line flags, WEBUI_* environment variables, the config file, the defaults.
// Every setting has the same meaning in all four places.
//
// The config file is plain "key = value" lines with # comments, so it can be
// edited with nano on a phone. Unknown keys, malformed lines and bad values are
// errors that name the file, the line, what is wrong and what is allowed.
package config

import (
	"fmt"
	"time"

	"github.com/termux-webui/webui/internal/health"
)

// Config is the resolved configuration of one process.
type Config struct {
	Addr       string
	ConfigFile string
	StateDir   string
	LogDir     string
	RunDir     string

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
