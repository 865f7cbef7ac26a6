// The settings table: every key, its flag and env twin, help, allowed values and parser.

package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/health"
)

// DefaultUpdateURL is the project's release feed.
const DefaultUpdateURL = "https://github.com/termux-webui/webui/releases/latest/download/manifest.json"

type setting struct {
	key     string
	def     string
	help    string
	allowed string
	field
}

// field reads and writes one key's Config field: set checks v and stores
// it, get shows it as `webui config` does.
type field struct {
	set func(c *Config, v string) error
	get func(c *Config) string
}

var errBad = errors.New("bad value")

func durationSetting(dst func(*Config) *time.Duration, allowZero bool) field {
	return field{set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil && v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 || (!allowZero && d == 0) {
			return errBad
		}
		*dst(c) = d
		return nil
	}, get: func(c *Config) string { return dst(c).String() }}
}

func intSetting(dst func(*Config) *int, min, max int) field {
	return field{set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return errBad
		}
		*dst(c) = n
		return nil
	}, get: func(c *Config) string { return strconv.Itoa(*dst(c)) }}
}

func int64Setting(dst func(*Config) *int64, min int64) field {
	return field{set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			return errBad
		}
		*dst(c) = n
		return nil
	}, get: func(c *Config) string { return strconv.FormatInt(*dst(c), 10) }}
}

// stringSetting takes a value that ok accepts as it is.
func stringSetting(dst func(*Config) *string, ok func(string) bool) field {
	return field{set: func(c *Config, v string) error {
		if !ok(v) {
			return errBad
		}
		*dst(c) = v
		return nil
	}, get: func(c *Config) string { return *dst(c) }}
}

func oneOf(dst func(*Config) *string, choices ...string) field {
	return stringSetting(dst, func(v string) bool {
		for _, ch := range choices {
			if v == ch {
				return true
			}
		}
		return false
	})
}

func boolSetting(dst func(*Config) *bool) field {
	return field{set: func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "on", "true", "yes", "1":
			*dst(c) = true
		case "off", "false", "no", "0":
			*dst(c) = false
		default:
			return errBad
		}
		return nil
	}, get: func(c *Config) string { return onOff(*dst(c)) }}
}

func listSetting(dst func(*Config) *[]string) field {
	return field{set: func(c *Config, v string) error {
		var out []string
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		*dst(c) = out
		return nil
	}, get: func(c *Config) string { return strings.Join(*dst(c), ",") }}
}

func dirSetting(dst func(*Config) *string) field {
	return field{set: func(c *Config, v string) error {
		if v == "" {
			return errBad
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return errBad
		}
		*dst(c) = abs
		return nil
	}, get: func(c *Config) string { return *dst(c) }}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func validAddr(v string) bool {
	_, err := health.ParseAddr(v)
	return err == nil
}

func httpURL(v string) bool {
	return strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")
}

func channelName(v string) bool {
	return v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}

// passwordHash never shows the hash itself: only whether one is set.
var passwordHash = field{
	set: func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "pbkdf2-sha256$") {
			return errBad
		}
		c.PasswordHash = v
		return nil
	},
	get: func(c *Config) string {
		if c.PasswordHash == "" {
			return ""
		}
		return "(set)"
	},
}

// settings lists every key, in the order help prints them.
var settings = []setting{
	{key: "addr", def: "127.0.0.1:8787", help: "address to listen on", allowed: "HOST:PORT, such as 127.0.0.1:8787",
		field: stringSetting(func(c *Config) *string { return &c.Addr }, validAddr)},
	{key: "state_dir", help: "lifetime records and other state (default per platform)", allowed: "a directory path", field: dirSetting(func(c *Config) *string { return &c.StateDir })},
	{key: "log_dir", help: "log files (default per platform)", allowed: "a directory path", field: dirSetting(func(c *Config) *string { return &c.LogDir })},
	{key: "run_dir", help: "pid file and other runtime files (default per platform)", allowed: "a directory path", field: dirSetting(func(c *Config) *string { return &c.RunDir })},
	{key: "restart_mode", def: "auto", help: "how a restart is carried out", allowed: "auto, exec, delayed, supervisor",
		field: oneOf(func(c *Config) *string { return &c.RestartMode }, "auto",
			string(health.StrategyExec), string(health.StrategyDelayed), string(health.StrategySupervisor))},
	{key: "restart_delay", def: "15s", help: "delayed restart: wait this long after the old process exits", allowed: "a duration such as 15s or 0",
		field: durationSetting(func(c *Config) *time.Duration { return &c.RestartDelay }, true)},
	{key: "restart_survive", def: "10s", help: "delayed restart: the new process must stay alive this long to count as started", allowed: "a positive duration such as 10s",
		field: durationSetting(func(c *Config) *time.Duration { return &c.RestartSurvive }, false)},
	{key: "restart_attempts", def: "5", help: "delayed restart: attempts before giving up (the delay doubles each time)", allowed: "a whole number from 1 to 20",
		field: intSetting(func(c *Config) *int { return &c.RestartAttempts }, 1, 20)},
	{key: "update_url", def: DefaultUpdateURL, help: "release manifest URL", allowed: "an http or https URL",
		field: stringSetting(func(c *Config) *string { return &c.UpdateURL }, httpURL)},
	{key: "update_keys", help: "extra trusted release keys, comma separated", allowed: "base64 ed25519 public keys separated by commas",
		field: updateKeys},
	{key: "update_channel", def: "stable", help: "release channel", allowed: "a name of letters, digits, - and _",
		field: stringSetting(func(c *Config) *string { return &c.UpdateChannel }, channelName)},
	{key: "update_interval", def: "12h", help: "background update check interval (0 = never)", allowed: "a duration such as 12h, or 0",
		field: durationSetting(func(c *Config) *time.Duration { return &c.UpdateInterval }, true)},
	{key: "diagnostics", def: "on", help: "write lifetime records for `webui diagnose`", allowed: "on or off",
		field: boolSetting(func(c *Config) *bool { return &c.Diagnostics })},
	{key: "diag_keep", def: "50", help: "lifetime records to keep", allowed: "a whole number from 1 to 10000",
		field: intSetting(func(c *Config) *int { return &c.DiagKeep }, 1, 10000)},
	{key: "diag_max_bytes", def: "2097152", help: "total size cap of the lifetime records", allowed: "a whole number of bytes, at least 65536",
		field: int64Setting(func(c *Config) *int64 { return &c.DiagMaxBytes }, 65536)},
	{key: "password_hash", help: "login password hash, set with `webui passwd`", allowed: "a hash written by `webui passwd`",
		field: passwordHash},
	{key: "public_url", help: "the https address a TLS proxy (Tailscale Serve, cloudflared, Caddy) gives this server; its origin is accepted", allowed: "an http or https URL with a host and no path, such as https://phone.tailnet.ts.net",
		field: field{set: setPublicURL, get: func(c *Config) string { return c.PublicURL }}},
	{key: "allowed_hosts", help: "extra host names the server answers to, comma separated", allowed: "host names separated by commas",
		field: listSetting(func(c *Config) *[]string { return &c.AllowedHosts })},
	{key: "log_level", def: "info", help: "least severe log level written", allowed: "debug, info, warn, error",
		field: oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{key: "log_stderr", def: "auto", help: "also log text to stderr: auto = when stderr is a terminal or a supervisor (systemd, runit) collects it", allowed: "auto, on, off",
		field: oneOf(func(c *Config) *string { return &c.LogStderr }, "auto", "on", "off")},
	{key: "log_max_size_mb", def: "5", help: "rotate the log file at this size", allowed: "a whole number of MiB from 1 to 1024",
		field: intSetting(func(c *Config) *int { return &c.LogMaxSizeMB }, 1, 1024)},
	{key: "log_max_files", def: "3", help: "rotated log files to keep", allowed: "a whole number from 0 to 100",
		field: intSetting(func(c *Config) *int { return &c.LogMaxFiles }, 0, 100)},
	{key: "access_log", def: "on", help: "log one line per request", allowed: "on or off",
		field: boolSetting(func(c *Config) *bool { return &c.AccessLog })},
	{key: "max_conns", def: "512", help: "most connections served at once", allowed: "a whole number from 4 to 100000",
		field: intSetting(func(c *Config) *int { return &c.MaxConns }, 4, 100000)},
	{key: "max_header_bytes", def: "16384", help: "largest request header accepted", allowed: "a whole number from 1024 to 1048576",
		field: intSetting(func(c *Config) *int { return &c.MaxHeaderBytes }, 1024, 1<<20)},
	{key: "read_header_timeout", def: "10s", help: "time a client has to send its request headers", allowed: "a positive duration such as 10s",
		field: durationSetting(func(c *Config) *time.Duration { return &c.ReadHeaderTime }, false)},
	{key: "read_body_timeout", def: "30s", help: "time a client has to send a request body", allowed: "a positive duration such as 30s",
		field: durationSetting(func(c *Config) *time.Duration { return &c.ReadBodyTimeout }, false)},
	{key: "idle_timeout", def: "60s", help: "keep-alive connections idle longer are closed", allowed: "a positive duration such as 60s",
		field: durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout }, false)},
	{key: "shutdown_timeout", def: "10s", help: "graceful shutdown waits this long for requests to finish", allowed: "a duration such as 10s, or 0",
		field: durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, true)},
	{key: "min_free_mb", def: "20", help: "deep health reports degraded below this much free disk", allowed: "a whole number of MiB",
		field: int64Setting(func(c *Config) *int64 { return &c.MinFreeMB }, 0)},
	{key: "stall_after", def: "10s", help: "deep health reports an accept loop stuck this long as degraded", allowed: "a positive duration such as 10s",
		field: durationSetting(func(c *Config) *time.Duration { return &c.StallAfter }, false)},
}

func lookup(key string) *setting {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i]
		}
	}
	return nil
}

// Keys lists every config key.
func Keys() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.key
	}
	return out
}

// Validate checks value for key the way the config file, the environment
// and the flags do. The error is an *Error that says what is allowed.
func Validate(key, value string) error {
	_, err := Canonical(key, value)
	return err
}

// Canonical returns value as a running Config shows it (for example "1m0s"
// for "1m", "on" for "true"), or the error Validate reports.
func Canonical(key, value string) (string, error) {
	s := lookup(key)
	if s == nil {
		return "", &Error{Msg: fmt.Sprintf("unknown key %q", key)}
	}
	c := &Config{}
	if err := s.apply(c, value); err != nil {
		return "", badValue("", *s, value)
	}
	return c.Value(key), nil
}

// Describe returns a key's help text, allowed values and default.
func Describe(key string) (help, allowed, def string, ok bool) {
	s := lookup(key)
	if s == nil {
		return "", "", "", false
	}
	return s.help, s.allowed, s.def, true
}

// Value is key's value as Sorted shows it ("" for an unknown key).
func (c *Config) Value(key string) string {
	if s := lookup(key); s != nil {
		return s.get(c)
	}
	return ""
}

// Sorted returns the settings as key/value pairs for display, in the
// table's order. A password hash shows as "(set)".
func (c *Config) Sorted() [][2]string {
	out := make([][2]string, len(settings))
	for i, s := range settings {
		out[i] = [2]string{s.key, s.get(c)}
	}
	return out
}

// FlagName is the command line flag of a key: restart_delay -> restart-delay.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// EnvName is the environment variable of a key: restart_delay -> WEBUI_RESTART_DELAY.
func EnvName(key string) string { return "WEBUI_" + strings.ToUpper(key) }
