package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUpdatesFromApt: a webui that dpkg installed from the apt repository
// (its binary in dpkg's list of webui's files, webui-repo's sources entry
// in place) shows on the Updates page that apt updates it, with the
// command, and offers no install button, though the feed has a newer
// release.
func TestUpdatesFromApt(t *testing.T) {
	needChrome(t)
	t.Parallel()
	rel := newRelease(t, "9.9.9", releaseNotes)
	prefix := filepath.Join(t.TempDir(), "usr")
	bin := filepath.Join(prefix, "bin", "webui")
	sources := filepath.Join(prefix, "etc", "apt", "sources.list.d", "webui.list")
	info := filepath.Join(prefix, "var", "lib", "dpkg", "info")
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(sources), info} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, binary, bin)
	files := map[string]string{
		sources:                                "deb [signed-by=/k.gpg] https://example.org/apt stable main\n",
		filepath.Join(info, "webui.list"):      "/.\n" + filepath.Dir(bin) + "\n" + bin + "\n",
		filepath.Join(info, "webui-repo.list"): "/.\n" + filepath.Dir(sources) + "\n" + sources + "\n",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, serverOpts{bin: bin, config: rel.config()})

	b := newBrowser(t)
	b.signIn(s, "/#/updates")
	b.waitFor("the apt note", textJS("#up-msg")+`.includes("installed from its apt repository")`, 15*time.Second)
	msg := b.text("#up-msg")
	if !strings.Contains(msg, "pkg upgrade") || !strings.Contains(msg, sources) {
		t.Errorf("the Updates page says %q, want the sources entry and `pkg upgrade`", msg)
	}
	if b.visible("#up-apply") {
		t.Error("an install button is offered for an installation apt updates")
	}
	if info := b.text("#up-info"); !strings.Contains(info, "apt: pkg upgrade") || strings.Contains(info, "9.9.9") {
		t.Errorf("the card shows %q", info)
	}
	b.noErrors("updates from apt")
}
