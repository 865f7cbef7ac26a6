package browser

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStatusFreezeAndDoctor: after Termux was frozen, the Status page says
// so in words with the fix, and lists the doctor's checks, all readable at
// 360 px without scrolling sideways.
func TestStatusFreezeAndDoctor(t *testing.T) {
	needChrome(t)
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "getprop"), []byte("#!/bin/sh\necho 34\n"), 0o755)
	s := startServer(t, serverOpts{dir: dir, env: []string{"TERMUX_VERSION=0.118.1", "PATH=" + bin + ":" + os.Getenv("PATH")}})

	// A freeze of 6 s, as the cached-apps freezer does to a backgrounded Termux.
	pid := s.cmd.Process.Pid
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.signIn(s, "/")
	b.waitFor("the freeze card", visibleJS("#st-freeze")+` && `+textJS("#st-freeze-fix")+`.includes("termux-wake-lock")`, 20*time.Second)
	if txt := b.text("#st-freeze-text"); !strings.HasPrefix(txt, "Frozen for ") || !strings.Contains(txt, " s at ") || !strings.Contains(txt, "while Termux was in the background") {
		t.Errorf("freeze card says %q", txt)
	}
	fix := b.text("#st-freeze-fix")
	for _, w := range []string{"termux-wake-lock", "Unrestricted", "adb shell settings put global cached_apps_freezer disabled"} {
		if !strings.Contains(fix, w) {
			t.Errorf("freeze fix %q lacks %q", fix, w)
		}
	}
	b.waitFor("the doctor checks", `document.querySelectorAll("#st-doctor li").length === 10`, 15*time.Second)
	for id, words := range map[string]string{"freezes": "Frozen for", "phantom": "Disable child process restrictions", "boot": "webui boot enable"} {
		if txt := b.text(`#st-doctor [data-check=` + id + `]`); !strings.Contains(txt, words) {
			t.Errorf("doctor %s: %q lacks %q", id, txt, words)
		}
	}
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the Status page is %d px wide at a 360 px viewport", w)
	}
	b.noErrors("status with a freeze")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#st-freeze")))
	b.screenshot("status-freeze")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#st-doctor")))
	b.screenshot("status-doctor")
}
