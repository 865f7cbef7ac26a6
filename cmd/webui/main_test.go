package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/version"
)

// webui runs main's run in-process, in an environment of its own: temp
// state, run and log dirs, an empty config file, HOME.
func webui(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	d := t.TempDir()
	env := map[string]string{
		"WEBUI_STATE_DIR": filepath.Join(d, "state"), "WEBUI_RUN_DIR": filepath.Join(d, "run"),
		"WEBUI_LOG_DIR": filepath.Join(d, "log"), "HOME": filepath.Join(d, "home"),
		"WEBUI_CONFIG": filepath.Join(d, "webui.conf"), "WEBUI_ADDR": "127.0.0.1:1",
	}
	if err := os.WriteFile(env["WEBUI_CONFIG"], nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	code = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, errOut := webui(t, "version")
	if code != exitcode.OK || !strings.HasPrefix(out, "webui "+version.Version+" (go") || errOut != "" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// `webui help` lists every command and the exit codes, on stdout, exit 0.
func TestHelp(t *testing.T) {
	code, out, errOut := webui(t, "help")
	if code != exitcode.OK || errOut != "" || !strings.HasPrefix(out, "Usage: webui [command] [flags]") {
		t.Fatalf("help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "\n  "+c.Name+" ") {
			t.Errorf("help does not list %s", c.Name)
		}
	}
	if !strings.Contains(out, "75 restart requested") {
		t.Error("help does not give the exit codes")
	}
}

// Flags alone mean serve: `webui --help` is serve's usage.
func TestDashHelpIsServe(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		code, out, errOut := webui(t, arg)
		if code != exitcode.OK || errOut != "" || !strings.HasPrefix(out, "Usage: webui serve") || !strings.Contains(out, "-addr") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
}

// Every command answers --help and `webui help COMMAND` with its own usage
// and exit 0.
func TestCommandHelp(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands() {
		if seen[c.Name] {
			t.Errorf("command %s listed twice", c.Name)
		}
		seen[c.Name] = true
		for _, args := range [][]string{{c.Name, "--help"}, {"help", c.Name}} {
			code, out, errOut := webui(t, args...)
			first, _, _ := strings.Cut(out, "\n")
			if code != exitcode.OK || !strings.HasPrefix(first, "Usage: webui ") || !strings.Contains(first, c.Name) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // the last line of stderr starts with it
	}{
		{"unknown command", []string{"frobnicate"}, exitcode.Usage, `webui: unknown command "frobnicate" (run ` + "`webui help`"},
		{"help for an unknown command", []string{"help", "frobnicate"}, exitcode.Usage, `webui: unknown command "frobnicate"`},
		{"bad flag", []string{"config", "--frobnicate"}, exitcode.Usage, "webui config: flag provided but not defined: -frobnicate"},
		{"bad flag value", []string{"config", "--restart-delay", "soon"}, exitcode.Usage, "webui config: "},
		{"stray argument", []string{"version", "now"}, exitcode.Usage, `webui version: unexpected argument "now"`},
		{"missing config file", []string{"config", "--config", "/nonexistent/webui.conf"}, exitcode.Usage, "webui config: config file /nonexistent/webui.conf"},
		{"restart-helper without its arguments", []string{"restart-helper"}, exitcode.Usage, "webui restart-helper: need --old-pid"},
		{"flags alone mean serve", []string{"--addr", "0.0.0.0:0"}, exitcode.Usage, "webui serve: refusing to listen on 0.0.0.0:0 without a password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := webui(t, c.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != c.code || !strings.HasPrefix(lines[len(lines)-1], c.stderr) {
				t.Errorf("exit %d (want %d), stderr %q (want a last line starting %q)", code, c.code, errOut, c.stderr)
			}
			if c.name != "bad flag" && out != "" {
				t.Errorf("stdout %q: errors go to stderr", out)
			}
		})
	}
}

// A command whose output already says it all exits with its code and no
// error line: `ctl status` of a server never started is 3, quietly.
func TestSilentExitCode(t *testing.T) {
	code, out, errOut := webui(t, "ctl", "status", "--quiet", "--config", "/dev/null")
	if code != 3 || out != "" || errOut != "" {
		t.Errorf("ctl status --quiet: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
