// Package apps declares and supervises the user's hosted apps: one file per
// app in apps.d/NAME.conf, a process app kept alive through internal/proc,
// its logs, its lifetimes and their verdicts. Routing to the apps lives in
// internal/apps/proxy.
package apps

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/health"
)

// Kind is what an app is, which follows from its keys.
type Kind string

// The kinds of app.
const (
	Process Kind = "process" // `command`: a supervised process
	Static  Kind = "static"  // `root`: a directory served as files
	Proxy   Kind = "proxy"   // `upstream`: a server someone else runs
)

// Restart policies.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on-failure"
	RestartNever     = "never"
)

// DefaultStopTimeout is how long a stop waits after the stop signal before
// SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// Spec is one app as its file declares it, validated and normalized.
type Spec struct {
	Name string // from the file name: [a-z0-9-]+
	File string // the file it came from ("" for one built in memory)
	Kind Kind

	Command []string // process: argv, split like a shell does, without a shell
	Dir     string   // process: working directory ("" = the user's home)
	Port    int      // process: 0 means `port = auto`
	Health  string   // a path polled for readiness and liveness ("" = a TCP connect)
	Env     []string // process: KEY=VALUE, from `env.KEY = VALUE` lines, sorted

	Route       string // "/name/": always starts and ends with a slash
	StripPrefix bool   // default true
	Auth        bool   // default true: behind webui's login

	Root    string // static: the directory
	SPA     bool   // static: unknown paths serve index.html
	Listing bool   // static: directory listings (default off)

	Upstream string // proxy: http://127.0.0.1:PORT, http://localhost:PORT or unix:/path

	Restart     string         // always, on-failure (default), never
	StopSignal  syscall.Signal // SIGTERM default
	StopTimeout time.Duration  // DefaultStopTimeout default
}

// FileError is a problem in one app file. Error() is one line, file:line: msg.
type FileError struct {
	File string
	Line int // 0 when it is about the whole file
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Name is the app a file declares, from its file name (NAME.conf), or ""
// when the name is not [a-z0-9-]+.
func Name(file string) string {
	base := path.Base(file)
	name, ok := strings.CutSuffix(base, ".conf")
	if !ok || !ValidName(name) {
		return ""
	}
	return name
}

// ValidName reports whether name may name an app: 1 to 64 of a-z, 0-9
// and -. (A loop, not a regexp: package-level regexps compile at init,
// which every start waits for.)
func ValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// keys are the keys of an app file; env.KEY lines are the one family.
var keys = []string{"command", "dir", "port", "route", "health", "root", "upstream",
	"strip_prefix", "env.NAME", "restart", "stop_signal", "stop_timeout", "spa", "listing", "auth"}

func knownKey(k string) bool {
	if name, ok := strings.CutPrefix(k, "env."); ok {
		return validEnvName(name)
	}
	for _, x := range keys {
		if x == k && x != "env.NAME" {
			return true
		}
	}
	return false
}

// validEnvName: a shell variable name, [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Defaults is the app name with every key at its default and no kind yet.
func Defaults(name string) Spec {
	return Spec{Name: name, StripPrefix: true, Auth: true, Restart: RestartOnFailure,
		StopSignal: syscall.SIGTERM, StopTimeout: DefaultStopTimeout, Route: "/" + name + "/"}
}

// Parse reads one app file's text. file names it in errors and gives the
// app its name.
func Parse(file string, data []byte) (Spec, *FileError) {
	name := Name(file)
	if name == "" {
		return Spec{}, &FileError{File: file, Msg: fmt.Sprintf("bad app file name %q (allowed: NAME.conf, NAME of a-z, 0-9 and -)", path.Base(file))}
	}
	entries, err := config.ParseKeys(file, data, knownKey, func() []string { return keys })
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return Spec{}, &FileError{File: file, Line: ce.Line, Msg: strings.TrimPrefix(ce.Msg, fmt.Sprintf("%s:%d: ", file, ce.Line))}
		}
		return Spec{}, &FileError{File: file, Msg: err.Error()}
	}
	s := Defaults(name)
	s.File = file
	var kindLines []string
	for _, e := range entries {
		bad := func(format string, a ...any) *FileError {
			return &FileError{File: file, Line: e.Line, Msg: e.Key + ": " + fmt.Sprintf(format, a...)}
		}
		v := e.Value
		var ferr *FileError
		switch e.Key {
		case "command":
			kindLines = append(kindLines, fmt.Sprintf("command (line %d)", e.Line))
			s.Kind = Process
			if s.Command, err = SplitCommand(v); err != nil {
				ferr = bad("%v", err)
			} else if len(s.Command) == 0 {
				ferr = bad("empty (allowed: a command line, e.g. python3 app.py)")
			}
		case "dir":
			if !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "~") {
				ferr = bad("%q is not an absolute path (allowed: /path, or ~/path)", v)
			}
			s.Dir = v
		case "port":
			if v == "auto" {
				s.Port = 0
			} else if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				ferr = bad("%q (allowed: auto, or 1-65535)", v)
			} else {
				s.Port = n
			}
		case "route":
			if s.Route, err = normalizeRoute(v); err != nil {
				ferr = bad("%v", err)
			}
		case "health":
			if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " \t#") {
				ferr = bad("%q (allowed: a path on the app, e.g. /healthz)", v)
			}
			s.Health = v
		case "root":
			kindLines = append(kindLines, fmt.Sprintf("root (line %d)", e.Line))
			s.Kind = Static
			if !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "~") {
				ferr = bad("%q is not an absolute path (allowed: /path, or ~/path)", v)
			}
			s.Root = v
		case "upstream":
			kindLines = append(kindLines, fmt.Sprintf("upstream (line %d)", e.Line))
			s.Kind = Proxy
			if s.Upstream, err = checkUpstream(v); err != nil {
				ferr = bad("%v", err)
			}
		case "strip_prefix":
			s.StripPrefix, ferr = onOff(v, bad)
		case "spa":
			s.SPA, ferr = onOff(v, bad)
		case "listing":
			s.Listing, ferr = onOff(v, bad)
		case "auth":
			s.Auth, ferr = onOff(v, bad)
		case "restart":
			switch v {
			case RestartAlways, RestartOnFailure, RestartNever:
				s.Restart = v
			default:
				ferr = bad("%q (allowed: always, on-failure, never)", v)
			}
		case "stop_signal":
			sig, ok := stopSignals[strings.TrimPrefix(strings.ToUpper(v), "SIG")]
			if !ok {
				ferr = bad("%q (allowed: TERM, INT, HUP, QUIT, KILL)", v)
			}
			s.StopSignal = sig
		case "stop_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > time.Hour {
				ferr = bad("%q (allowed: a duration such as 10s, up to 1h)", v)
			}
			s.StopTimeout = d
		default: // env.KEY, the only other key ParseKeys lets through
			s.Env = append(s.Env, strings.TrimPrefix(e.Key, "env.")+"="+v)
		}
		if ferr != nil {
			return Spec{}, ferr
		}
	}
	if len(kindLines) != 1 {
		msg := "no command, root or upstream (give exactly one: command runs a process, root serves a directory, upstream proxies to a server)"
		if len(kindLines) > 1 {
			msg = "more than one of command, root and upstream: " + strings.Join(kindLines, ", ") + " (give exactly one)"
		}
		return Spec{}, &FileError{File: file, Msg: msg}
	}
	if s.Kind != Process {
		for _, e := range entries {
			if processOnly(e.Key) {
				return Spec{}, &FileError{File: file, Line: e.Line, Msg: fmt.Sprintf("%s is for a command app; this one is a %s app", e.Key, s.Kind)}
			}
		}
	}
	if s.Kind != Static {
		for _, e := range entries {
			if e.Key == "spa" || e.Key == "listing" {
				return Spec{}, &FileError{File: file, Line: e.Line, Msg: fmt.Sprintf("%s is for a root (static) app; this one is a %s app", e.Key, s.Kind)}
			}
		}
	}
	if _, err := normalizeRoute(s.Route); err != nil {
		// The default route /NAME/ of an app named like webui's own paths.
		return Spec{}, &FileError{File: file, Msg: fmt.Sprintf("route: %v (set another with route = /x/)", err)}
	}
	sort.Strings(s.Env)
	return s, nil
}

func processOnly(k string) bool {
	switch k {
	case "dir", "port", "restart", "stop_signal", "stop_timeout":
		return true
	}
	return strings.HasPrefix(k, "env.")
}

var stopSignals = map[string]syscall.Signal{"TERM": syscall.SIGTERM, "INT": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL}

func onOff(v string, bad func(string, ...any) *FileError) (bool, *FileError) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, bad("%q (allowed: on, off)", v)
}

// webui's own paths: a route may not cover them. Prefixes end in '/'.
var reserved = []string{"/api/", "/assets/", "/health", "/login", "/manifest.webmanifest"}

// normalizeRoute makes "/notes", "/notes/" and "/notes//" into "/notes/".
func normalizeRoute(r string) (string, error) {
	if !strings.HasPrefix(r, "/") {
		return "", fmt.Errorf("%q does not start with / (allowed: a prefix such as /notes/)", r)
	}
	if strings.ContainsAny(r, "?#%\\ \t") || strings.Contains(r, "/../") || strings.HasSuffix(r, "/..") {
		return "", fmt.Errorf("%q (allowed: a plain path prefix such as /notes/)", r)
	}
	c := path.Clean(r)
	if c == "/" {
		return "", errors.New(`"/" is webui's console (allowed: a prefix such as /notes/)`)
	}
	c += "/"
	for _, p := range reserved {
		q := strings.TrimSuffix(p, "/") + "/"
		if strings.HasPrefix(c, q) || strings.HasPrefix(q, c) {
			return "", fmt.Errorf("%q collides with webui's own %s", r, p)
		}
	}
	return c, nil
}

// RoutesOverlap reports whether a request path could match both routes.
func RoutesOverlap(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

// checkUpstream accepts loopback only: an upstream elsewhere would let an
// app file turn webui into an open relay into the LAN, with the user's
// session attached to the request.
func checkUpstream(v string) (string, error) {
	if sock, ok := strings.CutPrefix(v, "unix:"); ok {
		if !strings.HasPrefix(sock, "/") {
			return "", fmt.Errorf("%q: the socket path must be absolute (allowed: unix:/path/to.sock)", v)
		}
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%q (allowed: http://127.0.0.1:PORT, http://localhost:PORT or unix:/path/to.sock)", v)
	}
	if !(health.Addr{Host: u.Hostname()}).IsLoopback() {
		return "", fmt.Errorf("%q: not a loopback host (allowed: 127.0.0.1, localhost, [::1]; webui does not relay to other machines)", v)
	}
	a, err := health.ParseAddr(u.Host)
	if err != nil || a.AnyPort() {
		return "", fmt.Errorf("%q: no port (allowed: http://127.0.0.1:PORT)", v)
	}
	return a.URL(""), nil
}
