// Package config loads webui's settings. Precedence, highest first: command
// line flags, WEBUI_* environment variables, the config file, the defaults.
// Every setting has the same meaning in all four places.
//
// The config file is plain "key = value" lines with # comments, so it can be
// edited with nano on a phone. Unknown keys, malformed lines and bad values are
// errors that name the file, the line, what is wrong and what is allowed.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// ErrHelp is returned when --help was asked for; the usage has been printed.
var ErrHelp = flag.ErrHelp

// DefaultUpdateURL is the project's release feed.
const DefaultUpdateURL = "https://github.com/termux-webui/webui/releases/latest/download/manifest.json"

type setting struct {
	key     string
	def     string
	help    string
	allowed string
	set     func(c *Config, v string) error
}

var errBad = errors.New("bad value")

func durationSetting(dst func(*Config) *time.Duration, allowZero bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil && v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 || (!allowZero && d == 0) {
			return errBad
		}
		*dst(c) = d
		return nil
	}
}

func intSetting(dst func(*Config) *int, min, max int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return errBad
		}
		*dst(c) = n
		return nil
	}
}

func oneOf(dst func(*Config) *string, choices ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, ch := range choices {
			if v == ch {
				*dst(c) = v
				return nil
			}
		}
		return errBad
	}
}

func boolSetting(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "on", "true", "yes", "1":
			*dst(c) = true
		case "off", "false", "no", "0":
			*dst(c) = false
		default:
			return errBad
		}
		return nil
	}
}

func listSetting(dst func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		*dst(c) = out
		return nil
	}
}

func dirSetting(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "" {
			return errBad
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return errBad
		}
		*dst(c) = abs
		return nil
	}
}

// settings lists every key, in the order help prints them.
var settings = []setting{
	{key: "addr", def: "127.0.0.1:8787", help: "address to listen on", allowed: "HOST:PORT, such as 127.0.0.1:8787",
		set: func(c *Config, v string) error {
			host, port, err := net.SplitHostPort(v)
			if err != nil || !validHost(host) || (strings.HasPrefix(v, "[") && !strings.Contains(host, ":")) {
				return errBad
			}
			if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
				return errBad
			}
			c.Addr = v
			return nil
		}},
	{key: "state_dir", help: "lifetime records and other state (default per platform)", allowed: "a directory path", set: dirSetting(func(c *Config) *string { return &c.StateDir })},
	{key: "log_dir", help: "log files (default per platform)", allowed: "a directory path", set: dirSetting(func(c *Config) *string { return &c.LogDir })},
	{key: "run_dir", help: "pid file and other runtime files (default per platform)", allowed: "a directory path", set: dirSetting(func(c *Config) *string { return &c.RunDir })},
	{key: "restart_mode", def: "auto", help: "how a restart is carried out", allowed: "auto, exec, delayed, supervisor",
		set: oneOf(func(c *Config) *string { return &c.RestartMode }, "auto", "exec", "delayed", "supervisor")},
	{key: "restart_delay", def: "15s", help: "delayed restart: wait this long after the old process exits", allowed: "a duration such as 15s or 0",
		set: durationSetting(func(c *Config) *time.Duration { return &c.RestartDelay }, true)},
	{key: "restart_survive", def: "10s", help: "delayed restart: the new process must stay alive this long to count as started", allowed: "a positive duration such as 10s",
		set: durationSetting(func(c *Config) *time.Duration { return &c.RestartSurvive }, false)},
	{key: "restart_attempts", def: "5", help: "delayed restart: attempts before giving up (the delay doubles each time)", allowed: "a whole number from 1 to 20",
		set: intSetting(func(c *Config) *int { return &c.RestartAttempts }, 1, 20)},
	{key: "update_url", def: DefaultUpdateURL, help: "release manifest URL", allowed: "an http or https URL",
		set: func(c *Config, v string) error {
			if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
				return errBad
			}
			c.UpdateURL = v
			return nil
		}},
	{key: "update_keys", help: "extra trusted release keys, comma separated", allowed: "base64 ed25519 public keys separated by commas",
		set: setUpdateKeys},
	{key: "update_channel", def: "stable", help: "release channel", allowed: "a name of letters, digits, - and _",
		set: func(c *Config, v string) error {
			if v == "" || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
				return errBad
			}
			c.UpdateChannel = v
			return nil
		}},
	{key: "update_interval", def: "12h", help: "background update check interval (0 = never)", allowed: "a duration such as 12h, or 0",
		set: durationSetting(func(c *Config) *time.Duration { return &c.UpdateInterval }, true)},
	{key: "diagnostics", def: "on", help: "write lifetime records for `webui diagnose`", allowed: "on or off",
		set: boolSetting(func(c *Config) *bool { return &c.Diagnostics })},
	{key: "diag_keep", def: "50", help: "lifetime records to keep", allowed: "a whole number from 1 to 10000",
		set: intSetting(func(c *Config) *int { return &c.DiagKeep }, 1, 10000)},
	{key: "diag_max_bytes", def: "2097152", help: "total size cap of the lifetime records", allowed: "a whole number of bytes, at least 65536",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 65536 {
				return errBad
			}
			c.DiagMaxBytes = n
			return nil
		}},
	{key: "password_hash", help: "login password hash, set with `webui passwd`", allowed: "a hash written by `webui passwd`",
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "pbkdf2-sha256$") {
				return errBad
			}
			c.PasswordHash = v
			return nil
		}},
	{key: "public_url", help: "the https address a TLS proxy (Tailscale Serve, cloudflared, Caddy) gives this server; its origin is accepted", allowed: "an http or https URL with a host and no path, such as https://phone.tailnet.ts.net",
		set: setPublicURL},
	{key: "allowed_hosts", help: "extra host names the server answers to, comma separated", allowed: "host names separated by commas",
		set: listSetting(func(c *Config) *[]string { return &c.AllowedHosts })},
	{key: "log_level", def: "info", help: "least severe log level written", allowed: "debug, info, warn, error",
		set: oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{key: "log_stderr", def: "auto", help: "also log text to stderr: auto = when stderr is a terminal or a supervisor (systemd, runit) collects it", allowed: "auto, on, off",
		set: oneOf(func(c *Config) *string { return &c.LogStderr }, "auto", "on", "off")},
	{key: "log_max_size_mb", def: "5", help: "rotate the log file at this size", allowed: "a whole number of MiB from 1 to 1024",
		set: intSetting(func(c *Config) *int { return &c.LogMaxSizeMB }, 1, 1024)},
	{key: "log_max_files", def: "3", help: "rotated log files to keep", allowed: "a whole number from 0 to 100",
		set: intSetting(func(c *Config) *int { return &c.LogMaxFiles }, 0, 100)},
	{key: "access_log", def: "on", help: "log one line per request", allowed: "on or off",
		set: boolSetting(func(c *Config) *bool { return &c.AccessLog })},
	{key: "max_conns", def: "512", help: "most connections served at once", allowed: "a whole number from 4 to 100000",
		set: intSetting(func(c *Config) *int { return &c.MaxConns }, 4, 100000)},
	{key: "max_header_bytes", def: "16384", help: "largest request header accepted", allowed: "a whole number from 1024 to 1048576",
		set: intSetting(func(c *Config) *int { return &c.MaxHeaderBytes }, 1024, 1<<20)},
	{key: "read_header_timeout", def: "10s", help: "time a client has to send its request headers", allowed: "a positive duration such as 10s",
		set: durationSetting(func(c *Config) *time.Duration { return &c.ReadHeaderTime }, false)},
	{key: "read_body_timeout", def: "30s", help: "time a client has to send a request body", allowed: "a positive duration such as 30s",
		set: durationSetting(func(c *Config) *time.Duration { return &c.ReadBodyTimeout }, false)},
	{key: "idle_timeout", def: "60s", help: "keep-alive connections idle longer are closed", allowed: "a positive duration such as 60s",
		set: durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout }, false)},
	{key: "shutdown_timeout", def: "10s", help: "graceful shutdown waits this long for requests to finish", allowed: "a duration such as 10s, or 0",
		set: durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, true)},
	{key: "min_free_mb", def: "20", help: "deep health reports degraded below this much free disk", allowed: "a whole number of MiB",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return errBad
			}
			c.MinFreeMB = n
			return nil
		}},
	{key: "stall_after", def: "10s", help: "deep health reports an accept loop stuck this long as degraded", allowed: "a positive duration such as 10s",
		set: durationSetting(func(c *Config) *time.Duration { return &c.StallAfter }, false)},
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

// Value is key's value as Sorted shows it.
func (c *Config) Value(key string) string {
	for _, kv := range c.Sorted() {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

// FlagName is the command line flag of a key: restart_delay -> restart-delay.
func FlagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// EnvName is the environment variable of a key: restart_delay -> WEBUI_RESTART_DELAY.
func EnvName(key string) string { return "WEBUI_" + strings.ToUpper(key) }

// Loader resolves a Config. Its fields are injected so tests and the CLI can
// describe any environment.
type Loader struct {
	Getenv func(string) string
	Euid   int
}

// FlagSet registers every setting as a flag on fs and returns a function that
// resolves the Config after fs.Parse. Subcommands that take settings share it.
func (l Loader) FlagSet(fs *flag.FlagSet) func() (*Config, error) {
	resolve, _ := l.FlagSets(fs)
	return resolve
}

// FlagSets is FlagSet that also returns a resolver which skips the config
// file: commands that must work while the file is broken (`webui diagnose`
// after a config error) fall back on it.
func (l Loader) FlagSets(fs *flag.FlagSet) (resolve, withoutFile func() (*Config, error)) {
	flagVals := map[string]string{}
	var order []string
	for _, s := range settings {
		key := s.key
		if key == "password_hash" {
			// A flag would put the hash on the command line, where any
			// process can read it (/proc/PID/cmdline).
			fs.Func(FlagName(key), "not accepted: use `webui passwd` (or WEBUI_PASSWORD_HASH)", func(string) error {
				return errors.New("a password hash on the command line is readable by every process: use `webui passwd`, or WEBUI_PASSWORD_HASH")
			})
			continue
		}
		fs.Func(FlagName(key), s.help+" ("+s.allowed+")", func(v string) error {
			if _, seen := flagVals[key]; !seen {
				order = append(order, key)
			}
			flagVals[key] = v
			return nil
		})
	}
	var cfgFile string
	fs.StringVar(&cfgFile, "config", "", "config file (default per platform; env WEBUI_CONFIG)")
	return func() (*Config, error) {
			return l.resolve(cfgFile, flagVals, order, false)
		}, func() (*Config, error) {
			return l.resolve(cfgFile, flagVals, order, true)
		}
}

// Load parses args as flags and resolves the Config. Usage goes to out.
func (l Loader) Load(name string, args []string, out io.Writer) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	resolve := l.FlagSet(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &Error{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &Error{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return resolve()
}

func (l Loader) getenv(k string) string {
	if l.Getenv == nil {
		return os.Getenv(k)
	}
	return l.Getenv(k)
}

func (l Loader) resolve(cfgFile string, flagVals map[string]string, order []string, skipFile bool) (*Config, error) {
	p := paths.Defaults(l.getenv, l.Euid)
	c := &Config{Platform: p, Source: map[string]string{}, TempDir: p.TempDir}
	for _, s := range settings {
		if s.def == "" {
			continue
		}
		if err := s.set(c, s.def); err != nil {
			panic("config: bad default for " + s.key)
		}
		c.Source[s.key] = "default"
	}
	c.StateDir, c.LogDir, c.RunDir = p.StateDir, p.LogDir, p.RunDir
	for _, k := range []string{"state_dir", "log_dir", "run_dir"} {
		c.Source[k] = "default"
	}

	explicit := true
	switch {
	case cfgFile != "":
	case l.getenv("WEBUI_CONFIG") != "":
		cfgFile = l.getenv("WEBUI_CONFIG")
	default:
		cfgFile, explicit = p.ConfigFile, false
	}
	c.ConfigFile = cfgFile
	if skipFile {
		// nothing: flags, environment and defaults only
	} else if err := c.loadFile(cfgFile, explicit); err != nil {
		return nil, err
	}
	for _, s := range settings {
		name := EnvName(s.key)
		v, ok := lookupEnv(l.getenv, name)
		if !ok {
			continue
		}
		if err := s.apply(c, v); err != nil {
			return nil, badValue(name, s, v)
		}
		c.Source[s.key] = "env"
	}
	for _, key := range order {
		s := lookup(key)
		v := flagVals[key]
		if err := s.apply(c, v); err != nil {
			return nil, badValue("--"+FlagName(key), *s, v)
		}
		c.Source[key] = "flag"
	}
	if c.Source["password_hash"] != "env" {
		c.loadPasswordFile()
	}
	return c, nil
}

// lookupEnv treats an empty variable as unset, as shells make "VAR=" easy.
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func badValue(where string, s setting, v string) error {
	if where != "" {
		where += ": "
	}
	if i := controlAt(v); i >= 0 {
		return &Error{Msg: fmt.Sprintf("%s%s must not contain control characters (line breaks, tabs, escapes): %q has one at byte %d", where, s.key, clip(v), i)}
	}
	return &Error{Msg: fmt.Sprintf("%sbad value %q for %s (allowed: %s)", where, v, s.key, s.allowed)}
}

func (c *Config) loadFile(path string, explicit bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil
		}
		return &Error{Msg: fmt.Sprintf("config file %s: %v", path, unwrapPathErr(err))}
	}
	entries, err := Parse(path, data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Key == "password_hash" && e.Value != "" {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				c.exposedSecret = fmt.Sprintf("%s (mode %04o)", path, st.Mode().Perm())
			}
		}
		s := lookup(e.Key)
		if err := s.apply(c, e.Value); err != nil {
			return badValue(fmt.Sprintf("%s:%d", path, e.Line), *s, e.Value)
		}
		c.Source[e.Key] = "file:" + strconv.Itoa(e.Line)
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Entry is one "key = value" line of a config file.
type Entry struct {
	Line  int
	Key   string
	Value string
}

// Parse reads config file text. It checks the syntax and the keys; values are
// checked when applied.
func Parse(name string, data []byte) ([]Entry, error) {
	var out []Entry
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, &Error{Msg: fmt.Sprintf("%s:%d: malformed line %q (expected: key = value, or a # comment)", name, n, clip(line))}
		}
		val, err := parseValue(strings.TrimSpace(v))
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("%s:%d: %s: %v", name, n, k, err)}
		}
		if lookup(k) == nil {
			return nil, &Error{Msg: fmt.Sprintf("%s:%d: unknown key %q (known keys: %s)", name, n, clip(k), strings.Join(Keys(), ", "))}
		}
		if prev, dup := seen[k]; dup {
			return nil, &Error{Msg: fmt.Sprintf("%s:%d: %s is set again (first set on line %d; each key may appear once)", name, n, k, prev)}
		}
		seen[k] = n
		out = append(out, Entry{Line: n, Key: k, Value: val})
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Msg: fmt.Sprintf("%s:%d: %v", name, n+1, err)}
	}
	return out, nil
}

// parseValue strips an optional pair of double quotes, or else a trailing
// " # comment".
func parseValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		end := strings.LastIndex(v, `"`)
		if end == 0 {
			return "", errors.New("unterminated quote (allowed: a value in double quotes, or a bare value)")
		}
		rest := strings.TrimSpace(v[end+1:])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("text after the closing quote: %q (allowed: a # comment)", clip(rest))
		}
		return v[1:end], nil
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i]), nil
		}
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// IsLoopback reports whether the listen address only accepts local clients.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check enforces the rules that span settings. The public-bind rule lives here
// so every entry point refuses the same way.
func (c *Config) Check() error {
	if c.exposedSecret != "" && c.Source["password_hash"] != "state" && c.Source["password_hash"] != "env" {
		return &Error{Msg: fmt.Sprintf("config file %s holds password_hash and others may read it: "+
			"run `webui passwd` as the file's owner to move the password to the state dir (0600), or chmod 600 the file", c.exposedSecret)}
	}
	if !IsLoopback(c.Addr) && c.PasswordHash == "" {
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
