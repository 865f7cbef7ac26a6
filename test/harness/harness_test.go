package harness

import (
	"os"
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	log := `{"addr":"127.0.0.1:4000","msg":"webui listening"}
{"msg":"request"}
{"addr":"[::1]:4001","level":"info","msg":"webui listening on http://[::1]:4001"}
`
	if got := ListenAddr(log); got != "[::1]:4001" {
		t.Fatalf("ListenAddr = %q, want the last listening line's", got)
	}
	if got := ListenAddr(`{"addr":"127.0.0.1:4000","msg":"bind failed"}`); got != "" {
		t.Fatalf("ListenAddr of no listening line = %q", got)
	}
}

func TestEnvKeepsOffTheMachine(t *testing.T) {
	t.Setenv("WEBUI_ADDR", "0.0.0.0:1")
	t.Setenv("TERMUX_VERSION", "0.118")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/0")
	env := Env("/h", "EXTRA=1")
	joined := "\n" + strings.Join(env, "\n") + "\n"
	for _, bad := range []string{"\nWEBUI_ADDR=", "\nTERMUX_VERSION=", "\nXDG_RUNTIME_DIR="} {
		if strings.Contains(joined, bad) {
			t.Errorf("Env keeps %s", strings.TrimSpace(bad))
		}
	}
	for _, want := range []string{"\nHOME=/h\n", "\nXDG_CONFIG_HOME=/h/config\n", "\nEXTRA=1\n"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Env lacks %s", strings.TrimSpace(want))
		}
	}
	if !strings.HasSuffix(joined, "\nEXTRA=1\n") {
		t.Error("extra does not come last (it must win)")
	}
}

func TestDirConfig(t *testing.T) {
	d := Dir(t.TempDir())
	if err := d.WriteConfig("", "# empty\n"); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteConfig("", "# other\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(d.Config()); string(b) != "# empty\n" {
		t.Fatalf("an existing config was replaced: %q", b)
	}
	if err := d.WriteConfig("log_level = debug\n", "# empty\n"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(d.Config())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(d.Config()); string(b) != "log_level = debug\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("config %q, mode %v", b, st.Mode())
	}
	s := strings.Join(d.Settings("127.0.0.1:0"), " ")
	if !strings.Contains(s, "--state-dir "+d.State()) || !strings.Contains(s, "--config "+d.Config()) {
		t.Fatalf("settings %s", s)
	}
}

func TestTrapped(t *testing.T) {
	for out, want := range map[string]bool{
		"SIGSYS: bad system call\nPC=0x40866e": true,
		"sh: 1: Bad system call":               true,
		"webui listening":                      false,
	} {
		if Trapped(out) != want {
			t.Errorf("Trapped(%q) = %v", out, !want)
		}
	}
}
