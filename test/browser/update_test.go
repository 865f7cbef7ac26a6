package browser

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// releaseNotes is markdown as publishers write it.
const releaseNotes = `## What's new

- **Faster restarts** on Android
- ` + "`webui diagnose`" + ` explains more deaths

See [the changelog](https://example.com/changelog).
`

// hostileNotes has markup that must stay text in the console.
const hostileNotes = `
<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>
`

// release is a signed release feed on a loopback server.
type release struct {
	url string // of manifest.json
	pub string // the public key that signed it
}

func (r *release) config() string {
	return "update_url = " + r.url + "\nupdate_keys = " + r.pub + "\nupdate_interval = 0\n"
}

// newRelease publishes version v with a key made for the test. With
// realBinary the artifact is webui built at v; otherwise a stand-in that
// is never installed.
func newRelease(t *testing.T, v, notes string, realBinary ...bool) *release {
	t.Helper()
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	webui := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = childEnv(dir)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("webui %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}
	webui("release", "keygen", "--out", filepath.Join(dir, "keys"))
	pub, err := os.ReadFile(filepath.Join(dir, "keys", "release.pub"))
	if err != nil {
		t.Fatal(err)
	}
	target := "linux-" + runtime.GOARCH
	art := filepath.Join(dist, "webui-"+target)
	if len(realBinary) > 0 && realBinary[0] {
		if out, err := build(art, v); err != nil {
			t.Fatalf("build %s: %v\n%s", v, err, out)
		}
	} else {
		os.WriteFile(art, []byte("#!/bin/sh\necho stand-in\n"), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "notes.md"), []byte(notes), 0o644)
	manifest := webui("release", "manifest", "--dist", dist, "--version", v, "--notes", filepath.Join(dir, "notes.md"))
	os.WriteFile(filepath.Join(dist, "manifest.json"), []byte(manifest), 0o644)
	webui("release", "sign", "--key", filepath.Join(dir, "keys", "release.key"), filepath.Join(dist, "manifest.json"))
	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	t.Cleanup(srv.Close)
	return &release{url: srv.URL + "/manifest.json", pub: strings.TrimSpace(string(pub))}
}

// TestUpdate installs 1.1.0 over 1.0.0 from the console: live progress,
// the restart, and the console back on the new version by itself.
func TestUpdate(t *testing.T) {
	needChrome(t)
	t.Parallel()
	rel := newRelease(t, "1.1.0", releaseNotes+hostileNotes, true)
	// The update replaces the running binary: give this server its own.
	bin := filepath.Join(t.TempDir(), "webui")
	copyFile(t, binary, bin)
	s := startServer(t, serverOpts{bin: bin, config: rel.config()})
	old := s.health()

	b := newBrowser(t)
	b.signIn(s, "/#/updates")
	b.waitFor("the update offer", textJS("#up-msg")+`.includes("1.1.0 is available") && `+visibleJS("#up-apply"), 15*time.Second)
	// Markup in the notes stays text: no element from it, no script ran.
	if !strings.Contains(b.text("#up-notes"), "<script>") || eval[int](b, `document.querySelectorAll("#up-notes img, #up-notes script").length`) != 0 || eval[bool](b, `!!window.pwned`) {
		t.Error("release notes turned into markup")
	}
	// Record every state the progress card shows.
	eval[bool](b, `(() => {
		window.__states = [];
		const rec = () => { const s = document.querySelector("#up-state").textContent + " | " + document.querySelector("#up-progress-text").textContent; if (window.__states[window.__states.length - 1] !== s) window.__states.push(s); };
		new MutationObserver(rec).observe(document.querySelector("#up-progress-card"), {subtree: true, childList: true, characterData: true, attributes: true});
		window.__banners = [];
		new MutationObserver(() => window.__banners.push(document.querySelector("#offline").textContent)).observe(document.querySelector("#offline"), {subtree: true, childList: true, attributes: true});
		return true; })()`)
	b.click("#up-apply")
	b.waitFor("the progress card", visibleJS("#up-progress-card"), 10*time.Second)
	b.screenshot("updates-progress")
	b.waitFor("the new version", textJS("#up-msg")+`.includes("Updated 1.0.0 → 1.1.0")`, 90*time.Second)
	states := eval[[]string](b, `window.__states`)
	t.Logf("progress shown: %q", states)
	t.Logf("banners shown: %q", eval[[]string](b, `window.__banners`))
	busy := false
	for _, st := range states {
		for _, w := range []string{"Downloading", "Verifying", "Installing", "Restarting", "Confirming"} {
			busy = busy || strings.HasPrefix(st, w)
		}
	}
	if !busy {
		t.Errorf("no progress state was shown: %q", states)
	}
	b.waitFor("the header on the new version", textJS("#conn")+`.includes("v1.1.0")`, 15*time.Second)
	if h := s.health(); h.Version != "1.1.0" || !h.StartedAt.After(old.StartedAt) {
		t.Errorf("health after the update: %+v (before %+v)", h, old)
	}
	if info := b.text("#up-info"); !strings.Contains(info, "Current1.1.0") || !b.visible("#up-reload") {
		t.Errorf("after the update, the card shows %q", info)
	}
	b.noErrors("update")
	b.screenshot("updates-done")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
