// Resolving a Config: flags over WEBUI_* variables over the config file over defaults.

package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/termux-webui/webui/internal/paths"
)

// Loader resolves a Config. Its fields are injected so tests and the CLI can
// describe any environment.
type Loader struct {
	Getenv func(string) string
	Euid   int
}

// FlagSets registers every setting as a flag on fs and returns the
// functions that resolve the Config after fs.Parse: resolve, and
// withoutFile, which skips the config file. Commands that must work while
// the file is broken (`webui diagnose` after a config error) fall back on
// the second.
func (l Loader) FlagSets(fs *flag.FlagSet) (resolve, withoutFile func() (*Config, error)) {
	flagVals := map[string]string{}
	var order []string
	for _, s := range settings {
		key := s.key
		if key == "password_hash" {
			// A flag would put the hash on the command line, where any
			// process can read it (/proc/PID/cmdline).
			fs.Func(FlagName(key), flagHelp("not accepted: use `webui passwd` (or WEBUI_PASSWORD_HASH)"), func(string) error {
				return errors.New("a password hash on the command line is readable by every process: use `webui passwd`, or WEBUI_PASSWORD_HASH")
			})
			continue
		}
		fs.Func(FlagName(key), flagHelp(s.help+" ("+s.allowed+")"), func(v string) error {
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

func (l Loader) getenv(k string) string {
	if l.Getenv == nil {
		return os.Getenv(k)
	}
	return l.Getenv(k)
}

func (l Loader) resolve(cfgFile string, flagVals map[string]string, order []string, skipFile bool) (*Config, error) {
	p := paths.Defaults(l.getenv, l.Euid)
	c := &Config{Source: map[string]string{}}
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

// flagHelp keeps a setting's help as written: the flag package takes a
// `quoted` word in a usage string for the flag's argument name, which
// turned "write records for `webui diagnose`" into "-diagnostics webui diagnose".
func flagHelp(help string) string { return strings.ReplaceAll(help, "`", "'") }
