package harness

import (
	"os"
	"path/filepath"
	"strings"
)

// Env is the environment of a child that keeps it off the platform
// defaults and the webui settings of the machine running it: no WEBUI_,
// TERMUX_ or PREFIX variables, and home under home. extra wins.
func Env(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEBUI_") || strings.HasPrefix(kv, "TERMUX_") || strings.HasPrefix(kv, "PREFIX=") ||
			strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home+"/config", "XDG_STATE_HOME="+home+"/xdgstate")
	return append(env, extra...)
}

// Dir is one installation: state/, log/, run/ and webui.conf under one
// directory, so that its state survives restarts of the processes.
type Dir string

// Path is rel under the installation.
func (d Dir) Path(rel string) string { return filepath.Join(string(d), rel) }

// State is the state dir.
func (d Dir) State() string { return d.Path("state") }

// Log is the log dir.
func (d Dir) Log() string { return d.Path("log") }

// Run is the run dir.
func (d Dir) Run() string { return d.Path("run") }

// Config is the config file.
func (d Dir) Config() string { return d.Path("webui.conf") }

// LogFile is the server's JSON log.
func (d Dir) LogFile() string { return d.Path("log/webui.log") }

// ReadLog is the server's JSON log so far ("" before it exists).
func (d Dir) ReadLog() string {
	b, _ := os.ReadFile(d.LogFile())
	return string(b)
}

// Settings are the flags that point a command at this installation.
func (d Dir) Settings(addr string) []string {
	return []string{"--addr", addr, "--state-dir", d.State(), "--log-dir", d.Log(),
		"--run-dir", d.Run(), "--config", d.Config()}
}

// WriteConfig writes content as the config file, or, with content "", a
// comment line when there is no config file yet.
func (d Dir) WriteConfig(content, empty string) error {
	if content == "" {
		if _, err := os.Stat(d.Config()); err == nil {
			return nil
		}
		content = empty
	}
	return os.WriteFile(d.Config(), []byte(content), 0o600)
}
