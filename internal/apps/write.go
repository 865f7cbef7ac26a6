package apps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"github.com/termux-webui/webui/internal/config"
)

// ErrExists is Add's answer when the app's file is there already.
var ErrExists = errors.New("app exists")

// Render is the app file that declares s: only what differs from the
// defaults, so the file says what the user chose.
func Render(s Spec) []byte {
	var b bytes.Buffer
	b.WriteString("# webui hosted app " + s.Name + " (key = value; see `webui app --help`)\n")
	kv := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, quoteValue(v)) }
	onOff := func(v bool) string {
		if v {
			return "on"
		}
		return "off"
	}
	switch s.Kind {
	case Process:
		kv("command", JoinCommand(s.Command))
		if s.Dir != "" {
			kv("dir", s.Dir)
		}
		if s.Port == 0 {
			kv("port", "auto")
		} else {
			kv("port", strconv.Itoa(s.Port))
		}
	case Static:
		kv("root", s.Root)
	case Proxy:
		kv("upstream", s.Upstream)
	}
	if s.Route != "" && s.Route != "/"+s.Name+"/" {
		kv("route", s.Route)
	}
	if s.Health != "" {
		kv("health", s.Health)
	}
	if !s.StripPrefix {
		kv("strip_prefix", "off")
	}
	if !s.Auth {
		kv("auth", "off")
	}
	if s.SPA {
		kv("spa", "on")
	}
	if s.Listing {
		kv("listing", onOff(s.Listing))
	}
	if s.Kind == Process {
		for _, e := range s.Env {
			k, v, _ := strings.Cut(e, "=")
			kv("env."+k, v)
		}
		if s.Restart != "" && s.Restart != RestartOnFailure {
			kv("restart", s.Restart)
		}
		if s.StopSignal != 0 && s.StopSignal != syscall.SIGTERM {
			for n, sig := range stopSignals {
				if sig == s.StopSignal {
					kv("stop_signal", n)
				}
			}
		}
		if s.StopTimeout != 0 && s.StopTimeout != DefaultStopTimeout {
			kv("stop_timeout", s.StopTimeout.String())
		}
	}
	return b.Bytes()
}

// quoteValue double-quotes a value the file syntax would otherwise cut (a
// " #" comment) or trim; the parser takes everything between the first and
// the last quote as it is.
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, "#\"") || strings.TrimSpace(v) != v {
		return `"` + v + `"`
	}
	return v
}

// Add writes dir/NAME.conf for s (`webui app add`), creating dir (0755).
// An existing app's file is kept unless overwrite. Build s from
// Defaults(name): a zero Spec means strip_prefix = off and auth = off.
func Add(dir string, s Spec, overwrite bool) (string, error) {
	if !ValidName(s.Name) {
		return "", fmt.Errorf("bad app name %q (allowed: a-z, 0-9 and -)", s.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("apps dir: %w", err)
	}
	file := filepath.Join(dir, s.Name+".conf")
	if !overwrite {
		if _, err := os.Lstat(file); err == nil {
			return file, fmt.Errorf("%s: %w (change the file, or add --force to replace it)", file, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return file, err
		}
	}
	return file, WriteSpec(file, s)
}

// WriteSpec renders s into file atomically (mode 0644: an app file holds no
// secret, and a package may ship one). The rendered text is parsed back
// first and must declare exactly s, and the routes of the other apps in
// the same dir must not overlap it: a file that would not load never
// replaces anything.
func WriteSpec(file string, s Spec) error {
	s.File = file
	data := Render(s)
	got, ferr := Parse(file, data)
	if ferr != nil {
		return fmt.Errorf("app %s: %v", s.Name, ferr)
	}
	if want := normalized(s); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("app %s: the file would not say what was asked (wrote %+v, reads back %+v)", s.Name, want, got)
	}
	others, _ := LoadDir(filepath.Dir(file))
	for _, o := range others {
		if o.Name != s.Name && RoutesOverlap(o.Route, got.Route) {
			return fmt.Errorf("app %s: route %s overlaps route %s of %s", s.Name, got.Route, o.Route, o.File)
		}
	}
	return config.WriteFileAtomic(file, data, 0o644)
}

// normalized fills in the defaults Parse would, to compare with its result.
func normalized(s Spec) Spec {
	if s.Route == "" {
		s.Route = "/" + s.Name + "/"
	} else if r, err := normalizeRoute(s.Route); err == nil {
		s.Route = r
	}
	if s.Restart == "" {
		s.Restart = RestartOnFailure
	}
	if s.StopSignal == 0 {
		s.StopSignal = syscall.SIGTERM
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	if len(s.Env) == 0 {
		s.Env = nil
	}
	return s
}
