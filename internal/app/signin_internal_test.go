package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/test/harness"
)

// ctl start prints the token link only on a terminal: a boot script's or
// a supervisor's log would otherwise keep the owner's token.
func TestPrintSignInOnlyOnATerminal(t *testing.T) {
	cfg := &config.Config{StateDir: t.TempDir()}
	tok, err := auth.LoadOrCreateToken(paths.State(cfg.StateDir).Token())
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	printSignIn(Env{Stdout: &file}, cfg, "127.0.0.1:8787")
	if strings.Contains(file.String(), tok) || !strings.Contains(file.String(), "webui url") {
		t.Errorf("not a terminal: %q", file.String())
	}
	master, slave := harness.OpenPTY(t)
	printSignIn(Env{Stdout: slave}, cfg, "127.0.0.1:8787")
	buf := make([]byte, 4096)
	n, _ := master.Read(buf)
	if want := SignInURL("127.0.0.1:8787", tok); !strings.Contains(string(buf[:n]), want) {
		t.Errorf("terminal: %q, want %s", buf[:n], want)
	}
}
