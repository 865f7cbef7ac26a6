package integration

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		conf string
		env  []string
		args []string
		want []string
	}{
		{"unknown key", "# ok\naddr = 127.0.0.1:0\nadr = x\n", nil, nil, []string{"webui.conf:3:", `unknown key "adr"`, "known keys: addr"}},
		{"malformed line", "addr 127.0.0.1:0\n", nil, nil, []string{"webui.conf:1:", "malformed line", "expected: key = value"}},
		{"bad value", "\n\nrestart_mode = fast\n", nil, nil, []string{"webui.conf:3:", `"fast"`, "allowed: auto, exec, delayed, supervisor"}},
		{"bad duration", "restart_delay = soon\n", nil, nil, []string{"webui.conf:1:", "restart_delay", "allowed: a duration"}},
		{"duplicate key", "addr = 127.0.0.1:0\naddr = 127.0.0.1:1\n", nil, nil, []string{"webui.conf:2:", "set again"}},
		{"bad env", "", []string{"WEBUI_MAX_CONNS=lots"}, nil, []string{"WEBUI_MAX_CONNS", `"lots"`, "allowed: a whole number"}},
		{"bad flag", "", nil, []string{"--log-level", "loud"}, []string{"--log-level", "allowed: debug, info, warn, error"}},
		{"unknown flag", "", nil, []string{"--colour"}, []string{"flag provided but not defined: -colour"}},
		{"public bind", "", nil, []string{"--addr", "0.0.0.0:0"}, []string{"refusing to listen on 0.0.0.0:0 without a password", "webui passwd"}},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, opts{config: c.conf, env: c.env, args: c.args, noWait: true})
			code, _ := p.wait(10 * time.Second)
			if code != 2 {
				t.Fatalf("exit = %d, want 2\n%s", code, p.stderr.String())
			}
			out := strings.TrimSpace(p.stderr.String())
			if c.name != "unknown flag" && strings.Count(out, "\n") != 0 {
				t.Errorf("want one line, got:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("missing explicit config", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runCLI(t, nil, "serve", "--config", "/nonexistent/webui.conf")
		if code != 2 || !strings.Contains(stderr, "/nonexistent/webui.conf") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}

// Precedence: flags > WEBUI_* environment > config file > defaults.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("restart_delay = 1s\nshutdown_timeout = 1s\nmax_conns = 100\n"), 0o600)
	code, out, stderr := runCLI(t, []string{"WEBUI_SHUTDOWN_TIMEOUT=2s", "WEBUI_MAX_CONNS=200"},
		"config", "--config", conf, "--max-conns", "300", "--json")
	if code != 0 {
		t.Fatalf("config: %d %s", code, stderr)
	}
	var got map[string]struct{ Value, Source string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string][2]string{
		"restart_delay":    {"1s", "file:1"},
		"shutdown_timeout": {"2s", "env"},
		"max_conns":        {"300", "flag"},
		"restart_mode":     {"auto", "default"},
		"addr":             {"127.0.0.1:8787", "default"},
	}
	for k, w := range want {
		if got[k].Value != w[0] || got[k].Source != w[1] {
			t.Errorf("%s = %+v, want %v", k, got[k], w)
		}
	}
}

func TestPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := start(t, opts{args: []string{"--addr", ln.Addr().String()}, noWait: true})
	code, _ := p.wait(10 * time.Second)
	out := strings.TrimSpace(p.stderr.String())
	if code != 3 || !strings.Contains(out, "address already in use") || strings.Count(out, "\n") != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestPasswdAllowsPublicBind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("# my settings\nlog_level = info  # keep\n"), 0o600)
	cmd := exec.Command(binary, "passwd", "--config", conf, "--state-dir", filepath.Join(dir, "state"))
	cmd.Env = baseEnv(dir)
	cmd.Stdin = strings.NewReader("correct horse battery\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("passwd: %v %s", err, out)
	}
	// The hash goes to the state dir (0600); the config file keeps its text.
	if b, _ := os.ReadFile(conf); string(b) != "# my settings\nlog_level = info  # keep\n" {
		t.Fatalf("config after passwd:\n%s", b)
	}
	pf := paths.State(filepath.Join(dir, "state")).Password()
	if b, err := os.ReadFile(pf); err != nil || !strings.HasPrefix(string(b), "pbkdf2-sha256$") {
		t.Fatalf("password file: %q %v", b, err)
	}
	if st, _ := os.Stat(pf); st.Mode().Perm() != 0o600 {
		t.Fatalf("password file mode %v", st.Mode())
	}
	p := start(t, opts{dir: dir, args: []string{"--addr", "0.0.0.0:0"}, noWait: true})
	p.addr = p.waitListening(10 * time.Second)
	p.addr = strings.Replace(p.addr, "[::]", "127.0.0.1", 1)
	p.addr = strings.Replace(p.addr, "0.0.0.0", "127.0.0.1", 1)
	p.mustHealthy()
}

func TestCLIHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"serve", "--help"}, {"version", "--help"}, {"passwd", "--help"}, {"help", "serve"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "Usage: webui") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	code, stdout, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "webui ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	code, _, stderr := runCLI(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
}

// A release build has none of the test routes.
func TestReleaseBinary(t *testing.T) {
	t.Parallel()
	rel := filepath.Join(t.TempDir(), "webui")
	if out, err := build(rel, "", "-X github.com/termux-webui/webui/internal/version.Version=9.9.9"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	p := start(t, opts{bin: rel})
	for _, path := range []string{"/_test/big", "/_test/panic", "/_test/fatal"} {
		resp, _, err := p.get(path)
		if err != nil || resp.StatusCode != 404 {
			t.Errorf("%s in release build: %v %v", path, resp, err)
		}
	}
	if _, h := p.health(false); h.Version != "9.9.9" {
		t.Errorf("version = %q, want the ldflags one", h.Version)
	}
}
