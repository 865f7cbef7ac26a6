package ctl

import (
	"os"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/paths"
)

func TestRender(t *testing.T) {
	got := Render(`{"addr":"127.0.0.1:8787","level":"info","msg":"webui listening","pid":42,"time":"2026-01-02T03:04:05.678Z","note":"two words"}`)
	for _, want := range []string{"INFO ", "webui listening", "addr=127.0.0.1:8787", "pid=42", `note="two words"`, ".678"} {
		if !strings.Contains(got, want) {
			t.Errorf("Render = %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "msg=") || strings.Contains(got, "level=") {
		t.Errorf("Render repeats the fixed fields: %q", got)
	}
	if got := Render("not json at all"); got != "not json at all" {
		t.Errorf("plain line: %q", got)
	}
}

// TestTrimConsole: a big console.log is kept as console.log.1 and emptied,
// and a writer holding it open (O_APPEND, as the server does) writes on at
// its new start.
func TestTrimConsole(t *testing.T) {
	i := &Instance{LogDir: t.TempDir()}
	w, err := os.OpenFile(paths.Log(i.LogDir).Console(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("small\n"); err != nil {
		t.Fatal(err)
	}
	if err := i.TrimConsole(); err != nil || fileSize(paths.Log(i.LogDir).Console()) != 6 {
		t.Fatalf("a small file was trimmed: %v", err)
	}
	big := strings.Repeat("x", maxConsole) + "\n"
	if _, err := w.WriteString(big); err != nil {
		t.Fatal(err)
	}
	if err := i.TrimConsole(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("after\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(paths.Log(i.LogDir).Console()); string(b) != "after\n" {
		t.Errorf("console.log after the trim: %d bytes", len(b))
	}
	if got := fileSize(paths.Log(i.LogDir).Console() + ".1"); got != int64(6+len(big)) {
		t.Errorf("console.log.1: %d bytes", got)
	}
}
