package app_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/exitcode"
)

// sandbox is a webui installation in a temp dir: its own state, run and
// log dirs, config file, HOME and address, handed to commands as their
// environment. Commands run in-process.
type sandbox struct {
	t                            *testing.T
	state, runDir, log, home, cf string
	env                          map[string]string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	d := t.TempDir()
	s := &sandbox{t: t, state: filepath.Join(d, "state"), runDir: filepath.Join(d, "run"), log: filepath.Join(d, "log"),
		home: filepath.Join(d, "home"), cf: filepath.Join(d, "webui.conf")}
	s.write(s.cf, "# webui test config\n")
	s.env = map[string]string{
		"WEBUI_STATE_DIR": s.state, "WEBUI_RUN_DIR": s.runDir, "WEBUI_LOG_DIR": s.log, "WEBUI_CONFIG": s.cf,
		"WEBUI_ADDR": freeAddr(t), "HOME": s.home, "PATH": os.Getenv("PATH"),
	}
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *sandbox) write(path, text string) {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// result is what a command left: its exit code as main computes it, and
// its output.
type result struct {
	code           int
	stdout, stderr string
	err            error
}

func (r result) String() string {
	msg := ""
	if r.err != nil {
		msg = r.err.Error()
	}
	return "exit " + itoa(r.code) + ", error " + msg + "\nstdout: " + r.stdout + "\nstderr: " + r.stderr
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// run runs cmd as main does.
func (s *sandbox) run(cmd func(context.Context, app.Env, []string) error, stdin string, args ...string) result {
	s.t.Helper()
	var out, errOut strings.Builder
	env := app.Env{Getenv: func(k string) string { return s.env[k] }, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
	err := cmd(context.Background(), env, args)
	r := result{stdout: out.String(), stderr: errOut.String(), err: err}
	if err != nil && !app.IsHelp(err) {
		r.code = exitcode.Of(err)
	}
	return r
}

// expect checks a command's exit code and that its error, if any, is one
// line holding want.
func (r result) expect(t *testing.T, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	if want == "" {
		return
	}
	if r.err == nil || app.IsSilent(r.err) {
		t.Fatalf("want an error with %q, got %s", want, r)
	}
	if msg := r.err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("want one line with %q, got %q", want, msg)
	}
}

func TestVersion(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.Version, "")
	r.expect(t, exitcode.OK, "")
	if !strings.HasPrefix(r.stdout, "webui ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version output %q", r.stdout)
	}
	s.run(app.Version, "", "extra").expect(t, exitcode.Usage, `unexpected argument "extra"`)
}

// Every command answers --help with its usage on stdout and exit 0, and a
// flag it does not know with the usage exit code.
func TestFlagsHelpAndErrors(t *testing.T) {
	cmds := map[string]func(context.Context, app.Env, []string) error{
		"config": app.Config, "diagnose": app.Diagnose, "doctor": app.Doctor, "passwd": app.Passwd,
		"platform": app.Platform, "serve": app.Serve, "token": app.Token, "url": app.URL, "version": app.Version,
		"watchdog": app.Watchdog, "restart-helper": app.RestartHelper,
	}
	for name, cmd := range cmds {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			r := s.run(cmd, "", "--help")
			if r.code != exitcode.OK || (r.err != nil && !app.IsHelp(r.err)) || !strings.Contains(r.stdout, "Usage: webui "+name) {
				t.Errorf("--help: %s", r)
			}
			s.run(cmd, "", "--no-such-flag").expect(t, exitcode.Usage, "no-such-flag")
		})
	}
}

// The subcommand tables: ctl, boot, update and release each refuse an
// unknown or missing subcommand with the usage exit code, and answer help.
func TestSubcommandTables(t *testing.T) {
	cases := []struct {
		name string
		cmd  func(context.Context, app.Env, []string) error
		want string // in the usage text
	}{
		{"ctl", app.Ctl, "Usage: webui ctl"},
		{"boot", app.Boot, "Usage: webui boot"},
		{"update", app.Update, "Usage: webui update"},
		{"release", app.Release, "Usage: webui release"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			s.run(c.cmd, "", "frobnicate").expect(t, exitcode.Usage, `"frobnicate"`)
			r := s.run(c.cmd, "")
			r.expect(t, exitcode.Usage, "")
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("no subcommand: usage not on stderr: %s", r)
			}
			r = s.run(c.cmd, "", "--help")
			if r.code != exitcode.OK || !strings.Contains(r.stdout, c.want) {
				t.Errorf("--help: %s", r)
			}
		})
	}
}

// `webui config` shows each setting's value and source, and refuses a bad
// config file with one line naming the file and line.
func TestConfigCommand(t *testing.T) {
	t.Run("good file", func(t *testing.T) {
		s := newSandbox(t)
		delete(s.env, "WEBUI_ADDR")
		s.write(s.cf, "# comment\naddr = 127.0.0.1:9999\nrestart_delay = 20s\n")
		r := s.run(app.Config, "", "--json")
		r.expect(t, exitcode.OK, "")
		var got map[string]struct{ Value, Source string }
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("config --json: %v\n%s", err, r.stdout)
		}
		for key, want := range map[string]struct{ Value, Source string }{
			"addr":          {"127.0.0.1:9999", "file:2"},
			"restart_delay": {"20s", "file:3"},
			"restart_mode":  {"auto", "default"},
			"state_dir":     {s.state, "env"},
			"config_file":   {s.cf, "resolved"},
		} {
			if got[key] != want {
				t.Errorf("%s = %+v, want %+v", key, got[key], want)
			}
		}
		r = s.run(app.Config, "", "--restart-delay", "1s")
		r.expect(t, exitcode.OK, "")
		if !lineWith(r.stdout, "restart_delay", "1s", "# flag") || !lineWith(r.stdout, "addr", "127.0.0.1:9999", "# file:2") {
			t.Errorf("config text:\n%s", r.stdout)
		}
		s.env["WEBUI_ADDR"] = "127.0.0.1:7777"
		if r = s.run(app.Config, ""); !lineWith(r.stdout, "addr", "127.0.0.1:7777", "# env") {
			t.Errorf("env over file:\n%s", r.stdout)
		}
	})
	bad := []struct{ name, file, want string }{
		{"unknown key", "addr = 127.0.0.1:9999\nbogus = 1\n", `webui.conf:2: unknown key "bogus"`},
		{"bad value", "restart_delay = soon\n", `webui.conf:1: bad value "soon" for restart_delay`},
		{"bad line", "addr\n", "webui.conf:1:"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			s.write(s.cf, c.file)
			s.run(app.Config, "").expect(t, exitcode.Usage, c.want)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		s := newSandbox(t)
		s.run(app.Config, "", "--config", s.cf+".gone").expect(t, exitcode.Usage, "webui.conf.gone")
	})
	t.Run("bad env", func(t *testing.T) {
		s := newSandbox(t)
		s.env["WEBUI_RESTART_MODE"] = "sideways"
		s.run(app.Config, "").expect(t, exitcode.Usage, "WEBUI_RESTART_MODE")
	})
	t.Run("bad flag value", func(t *testing.T) {
		s := newSandbox(t)
		s.run(app.Config, "", "--restart-attempts", "0").expect(t, exitcode.Usage, "--restart-attempts")
	})
}

// lineWith: some line of text holds each of parts, in order.
func lineWith(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := line, true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestPlatformJSON(t *testing.T) {
	s := newSandbox(t)
	s.env["WEBUI_RESTART_MODE"] = "supervisor"
	r := s.run(app.Platform, "", "--json")
	r.expect(t, exitcode.OK, "")
	var got struct {
		GOOS    string `json:"goos"`
		Restart struct{ Strategy, Why string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.GOOS == "" {
		t.Fatalf("platform --json: %v\n%s", err, r.stdout)
	}
	if got.Restart.Strategy != "supervisor" || !strings.Contains(got.Restart.Why, "restart_mode=supervisor") {
		t.Errorf("restart %+v: restart_mode must decide", got.Restart)
	}
}
