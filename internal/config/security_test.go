package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/paths"
)

// The config injection of the security review: a line break in a value
// must not become lines of its own, from any source.
func TestControlCharactersRefused(t *testing.T) {
	evil := "[x\nupdate_url = http://evil/\nupdate_keys = AAAA\n; ]:80"
	for _, v := range []string{evil, "127.0.0.1:80\r", "a\tb:1", "\x1b[31m:1", "x\u0085:1", "127.0.0.1:1\u2028"} {
		if err := Validate("addr", v); err == nil || !strings.Contains(err.Error(), "control characters") {
			t.Errorf("Validate(addr, %q) = %v", v, err)
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "webui.conf")
	os.WriteFile(f, []byte("log_level = info\n"), 0o600)
	if err := SetKey(f, "addr", evil); err == nil {
		t.Fatal("SetKey took a value with a line break")
	}
	if b, _ := os.ReadFile(f); string(b) != "log_level = info\n" {
		t.Fatalf("file changed: %q", b)
	}
	// From the environment and the flags too.
	getenv := env(map[string]string{"HOME": dir, "WEBUI_UPDATE_CHANNEL": "beta\n"})
	if _, err := (Loader{Getenv: getenv, Euid: 1000}).load(); err == nil || !strings.Contains(err.Error(), "control characters") {
		t.Errorf("env: %v", err)
	}
	getenv = env(map[string]string{"HOME": dir})
	if _, err := (Loader{Getenv: getenv, Euid: 1000}).load("--log-level", "info\x00"); err == nil || !strings.Contains(err.Error(), "control characters") {
		t.Errorf("flag: %v", err)
	}
	// A file with a tab inside a value (a quoted one) is refused when loaded.
	os.WriteFile(f, []byte("update_channel = \"be\tta\"\n"), 0o600)
	if _, err := (Loader{Getenv: getenv, Euid: 1000}).load("--config", f); err == nil || !strings.Contains(err.Error(), "control characters") {
		t.Errorf("file: %v", err)
	}
}

func TestAddrHost(t *testing.T) {
	for _, v := range []string{"127.0.0.1:1", ":8787", "[::1]:1", "localhost:1", "phone.lan:80", "0.0.0.0:0"} {
		if err := Validate("addr", v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"[x]:80", "a b:80", "x;y:1", "-x:1", "a..b:1", "[x=1]:80", "ho\"st:1"} {
		if err := Validate("addr", v); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
}

func TestUpdateKeysChecked(t *testing.T) {
	good := "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	if err := Validate("update_keys", good+", "+good); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"AAAA", "not base64!", good + ",x", strings.Repeat("A", 44)} {
		if err := Validate("update_keys", v); err == nil {
			t.Errorf("update_keys %q accepted", v)
		}
	}
}

func TestPublicURLValue(t *testing.T) {
	for in, want := range map[string]string{"https://phone.tailnet.ts.net": "https://phone.tailnet.ts.net", "https://Phone.example:8443/": "https://Phone.example:8443"} {
		if got, err := Canonical("public_url", in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, v := range []string{"ftp://x", "https://", "https://x/path", "https://u@x", "https://x?q", "https://x:0", "phone.lan"} {
		if err := Validate("public_url", v); err == nil {
			t.Errorf("public_url %q accepted", v)
		}
	}
}

func TestPasswordHashNotOnArgv(t *testing.T) {
	getenv := env(map[string]string{"HOME": t.TempDir()})
	_, err := (Loader{Getenv: getenv, Euid: 1000}).load("--password-hash", "pbkdf2-sha256$1$a$b")
	if err == nil || !strings.Contains(err.Error(), "webui passwd") {
		t.Fatalf("--password-hash: %v", err)
	}
}

func TestPasswordFromStateDir(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o700)
	os.WriteFile(paths.State(state).Password(), []byte("pbkdf2-sha256$1$a$b\n"), 0o600)
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("password_hash = pbkdf2-sha256$1$old$x\n"), 0o644)
	getenv := env(map[string]string{"HOME": dir})
	c, err := (Loader{Getenv: getenv, Euid: 1000}).load("--config", conf, "--state-dir", state, "--addr", "0.0.0.0:1")
	if err != nil {
		t.Fatal(err)
	}
	if c.PasswordHash != "pbkdf2-sha256$1$a$b" || c.Source["password_hash"] != "state" || c.Check() != nil {
		t.Fatalf("hash %q from %s: %v", c.PasswordHash, c.Source["password_hash"], c.Check())
	}
	// Only in a config file others may read: refused at startup.
	os.Remove(paths.State(state).Password())
	c, _ = (Loader{Getenv: getenv, Euid: 1000}).load("--config", conf, "--state-dir", state)
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "others may read it") {
		t.Fatalf("exposed hash: %v", err)
	}
}

func TestSetKeyBOMAndMode(t *testing.T) {
	f := filepath.Join(t.TempDir(), "webui.conf")
	os.WriteFile(f, []byte("\ufeffaddr = 127.0.0.1:1\nlog_level = info\n"), 0o644)
	if err := SetKey(f, "addr", "127.0.0.1:2"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	if string(b) != "addr = 127.0.0.1:2\nlog_level = info\n" {
		t.Fatalf("BOM file: %q", b)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode of a file without secrets: %v", st.Mode())
	}
	// A file that holds a hash is nobody else's to read.
	if err := SetKey(f, "password_hash", "pbkdf2-sha256$1$a$b"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode with a hash: %v", st.Mode())
	}
	if err := RemoveKey(f, "password_hash"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); strings.Contains(string(b), "password_hash") {
		t.Fatalf("RemoveKey: %q", b)
	}
}

func TestSetKeySymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.conf")
	os.WriteFile(target, []byte("# real\n"), 0o600)
	link := filepath.Join(dir, "webui.conf")
	os.Symlink("real.conf", link)
	if err := SetKey(link, "log_level", "warn"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "# real\nlog_level = warn\n" {
		t.Fatalf("target: %q", b)
	}
	dangling := filepath.Join(dir, "dangling.conf")
	os.Symlink("nowhere/x.conf", dangling)
	if err := SetKey(dangling, "log_level", "warn"); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("dangling symlink: %v", err)
	}
}

func TestMoveExposedSecret(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("# mine\npassword_hash = pbkdf2-sha256$1$old$x\n"), 0o644)
	getenv := env(map[string]string{"HOME": dir})
	c, err := (Loader{Getenv: getenv, Euid: 1000}).load("--config", conf, "--state-dir", filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	moved, err := c.MoveExposedSecret(func(h string) error { stored = h; return nil })
	if err != nil || moved == "" || stored != "pbkdf2-sha256$1$old$x" || c.Check() != nil {
		t.Fatalf("moved %q stored %q: %v, check %v", moved, stored, err, c.Check())
	}
	if b, _ := os.ReadFile(conf); string(b) != "# mine\n" {
		t.Fatalf("config after the move: %q", b)
	}
	// Nothing exposed: nothing to do.
	if moved, err := c.MoveExposedSecret(func(string) error { t.Fatal("stored again"); return nil }); moved != "" || err != nil {
		t.Fatalf("second move: %q %v", moved, err)
	}
}
