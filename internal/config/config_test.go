package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// load parses args as a command's settings flags and resolves the Config.
func (l Loader) load(args ...string) (*Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	resolve, _ := l.FlagSets(fs)
	if err := fs.Parse(args); err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	return resolve()
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "webui.conf")
	os.WriteFile(f, []byte("restart_delay = 1s\nmax_conns = 10 # file\nlog_level = \"warn\"\n"), 0o600)
	l := Loader{Getenv: env(map[string]string{"WEBUI_MAX_CONNS": "20", "WEBUI_CONFIG": f, "HOME": dir}), Euid: 1000}
	c, err := l.load("--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if c.RestartDelay != time.Second || c.MaxConns != 20 || c.LogLevel != "error" || c.RestartMode != "auto" {
		t.Fatalf("got delay %s conns %d level %s mode %s", c.RestartDelay, c.MaxConns, c.LogLevel, c.RestartMode)
	}
	if c.Source["restart_delay"] != "file:1" || c.Source["max_conns"] != "env" || c.Source["log_level"] != "flag" || c.Source["addr"] != "default" {
		t.Fatalf("sources %v", c.Source)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"nokey\n", "f:1: malformed line"},
		{"= v\n", "f:1: malformed line"},
		{"a b = c\n", "f:1: malformed line"},
		{"# c\nbogus = 1\n", `f:2: unknown key "bogus"`},
		{"addr = \"x\n", "f:1: addr: unterminated quote"},
		{"addr = \"x\" y\n", "text after the closing quote"},
		{"addr = a\naddr = b\n", "f:2: addr is set again (first set on line 1"},
	}
	for _, c := range cases {
		_, err := Parse("f", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	es, err := Parse("f", []byte("\ufeff# comment\n\n  addr = 1.2.3.4:5   # trailing\nupdate_url=\"http://x/#frag\"\n; also comment\n"))
	if err != nil || len(es) != 2 || es[0].Value != "1.2.3.4:5" || es[0].Line != 3 || es[1].Value != "http://x/#frag" {
		t.Fatalf("Parse = %+v %v", es, err)
	}
}

func TestValues(t *testing.T) {
	bad := map[string]string{
		"addr": "8787", "restart_mode": "fast", "restart_delay": "-1s", "diagnostics": "maybe",
		"max_conns": "1", "update_url": "ftp://x", "update_channel": "a b", "read_header_timeout": "0",
		"password_hash": "plain", "diag_max_bytes": "10",
	}
	for k, v := range bad {
		s := lookup(k)
		if s == nil {
			t.Fatalf("no key %s", k)
		}
		if err := s.set(&Config{}, v); err == nil {
			t.Errorf("%s = %q accepted", k, v)
		}
	}
	var c Config
	for k, v := range map[string]string{"restart_delay": "0", "update_interval": "0", "diagnostics": "off", "addr": "[::1]:0"} {
		if err := lookup(k).set(&c, v); err != nil {
			t.Errorf("%s = %q refused: %v", k, v, err)
		}
	}
}

func TestEveryKeyShown(t *testing.T) {
	c, err := Loader{Getenv: env(map[string]string{"HOME": t.TempDir()}), Euid: 1000}.load()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range c.Sorted() {
		if kv[1] == "" && kv[0] != "password_hash" && kv[0] != "update_keys" && kv[0] != "allowed_hosts" && kv[0] != "public_url" {
			t.Errorf("key %s has no displayed value", kv[0])
		}
	}
	if len(c.Sorted()) != len(settings) {
		t.Errorf("Sorted has %d keys, settings %d", len(c.Sorted()), len(settings))
	}
}

func TestPublicBindNeedsPassword(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, "0.0.0.0:1": false, ":1": false, "192.168.1.5:1": false} {
		err := (&Config{Addr: addr}).Check()
		if (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
		if err := (&Config{Addr: addr, PasswordHash: "pbkdf2-sha256$1$a$b"}).Check(); err != nil {
			t.Errorf("%s with password: %v", addr, err)
		}
	}
}

func TestSetKeyKeepsComments(t *testing.T) {
	f := filepath.Join(t.TempDir(), "sub", "webui.conf")
	if err := SetKey(f, "log_level", "debug"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f, []byte("# mine\nlog_level = debug\n# addr = 1.2.3.4:5\n"), 0o600)
	if err := SetKey(f, "log_level", "warn"); err != nil {
		t.Fatal(err)
	}
	if err := SetKey(f, "addr", "127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	want := "# mine\nlog_level = warn\n# addr = 1.2.3.4:5\naddr = 127.0.0.1:9\n"
	if string(b) != want {
		t.Fatalf("got %q want %q", b, want)
	}
	if err := SetKey(f, "log_level", "loud"); err == nil {
		t.Fatal("bad value accepted")
	}
	os.WriteFile(f, []byte("junk line\n"), 0o600)
	if err := SetKey(f, "log_level", "warn"); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("SetKey on a broken file: %v", err)
	}
	if b, _ := os.ReadFile(f); string(b) != "junk line\n" {
		t.Fatalf("broken file was changed: %q", b)
	}
}

func TestValidateAndCanonical(t *testing.T) {
	for _, c := range []struct{ key, in, want string }{
		{"restart_delay", "1m", "1m0s"}, {"restart_delay", "0", "0s"}, {"diagnostics", "true", "on"},
		{"addr", "0.0.0.0:9000", "0.0.0.0:9000"}, {"update_channel", "beta", "beta"},
	} {
		got, err := Canonical(c.key, c.in)
		if err != nil || got != c.want {
			t.Errorf("Canonical(%s, %q) = %q, %v; want %q", c.key, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ key, in, want string }{
		{"restart_delay", "soon", `bad value "soon" for restart_delay (allowed: a duration such as 15s or 0)`},
		{"nope", "1", `unknown key "nope"`},
		{"addr", "8787", "allowed: HOST:PORT"},
	} {
		err := Validate(c.key, c.in)
		var ce *Error
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &ce) {
			t.Errorf("Validate(%s, %q) = %v; want %q", c.key, c.in, err, c.want)
		}
	}
	if _, _, def, ok := Describe("restart_delay"); !ok || def != "15s" {
		t.Errorf("Describe = %q %v", def, ok)
	}
}

// TestFlagHelp: every setting's flag shows its help as written, not with a
// word of it taken for the argument's name (the flag package's `quotes`).
func TestFlagHelp(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	Loader{Getenv: env(nil), Euid: 1000}.FlagSets(fs)
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	out := b.String()
	if !strings.Contains(out, "-diagnostics value\n") || !strings.Contains(out, "'webui diagnose'") {
		t.Errorf("diagnostics flag help:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  -") && len(strings.Fields(line)) > 2 {
			t.Errorf("a flag shows a help word as its argument: %q", line)
		}
	}
}

// TestValueFromTable: every key shows its default as Canonical writes it,
// and the password hash only as "(set)".
func TestValueFromTable(t *testing.T) {
	c, err := Loader{Getenv: env(map[string]string{"HOME": t.TempDir(), "WEBUI_PASSWORD_HASH": "pbkdf2-sha256$1$a$b",
		"WEBUI_UPDATE_KEYS": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "WEBUI_ALLOWED_HOSTS": "a, b"}), Euid: 1000}.load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if s.def == "" {
			continue
		}
		if want, _ := Canonical(s.key, s.def); c.Value(s.key) != want {
			t.Errorf("%s = %q, want %q", s.key, c.Value(s.key), want)
		}
	}
	for key, want := range map[string]string{"password_hash": "(set)", "allowed_hosts": "a,b", "restart_delay": "15s",
		"diagnostics": "on", "update_keys": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "nope": ""} {
		if got := c.Value(key); got != want {
			t.Errorf("Value(%s) = %q, want %q", key, got, want)
		}
	}
	for _, kv := range c.Sorted() {
		if strings.Contains(kv[1], "pbkdf2") {
			t.Errorf("Sorted shows the hash: %v", kv)
		}
	}
}
