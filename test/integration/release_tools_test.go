package integration

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The publisher's tools: keygen, manifest, sign, and a feed made with
// them that `webui update check` trusts.
func TestReleaseTools(t *testing.T) {
	t.Parallel()
	keys, dist := t.TempDir(), t.TempDir()
	code, out, stderr := runCLI(t, nil, "release", "keygen", "--out", keys)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	if st, err := os.Stat(filepath.Join(keys, "release.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("release.key: %v %v", st, err)
	}
	pubB, _ := os.ReadFile(filepath.Join(keys, "release.pub"))
	pub := strings.TrimSpace(string(pubB))
	if !strings.Contains(out, pub) {
		t.Errorf("keygen output does not show the public key:\n%s", out)
	}
	if code, _, stderr := runCLI(t, nil, "release", "keygen", "--out", keys); code != 2 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("second keygen: %d %s", code, stderr)
	}

	for name, body := range map[string]string{
		"webui-linux-amd64": "binary", "webui-termux-aarch64": "binary",
		"webui_3.0.0_amd64.deb": "deb", "webui_3.0.0_x86_64.deb": "deb", "webui_2.9.0_amd64.deb": "old",
	} {
		os.WriteFile(filepath.Join(dist, name), []byte(body), 0o644)
	}
	os.WriteFile(filepath.Join(keys, "NOTES.md"), []byte("- faster & <safer>\n"), 0o644)
	code, manifest, stderr := runCLI(t, []string{"SOURCE_DATE_EPOCH=1700000000"}, "release", "manifest", "--dist", dist, "--version", "3.0.0", "--notes", filepath.Join(keys, "NOTES.md"))
	if code != 0 || !strings.Contains(stderr, "skipped webui_2.9.0_amd64.deb") {
		t.Fatalf("manifest: %d %s", code, stderr)
	}
	var m struct {
		Schema    int
		Channel   string
		Version   string
		Published string
		Notes     string
		Artifacts []struct{ Target, Kind, URL string }
	}
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatalf("manifest JSON: %v\n%s", err, manifest)
	}
	var arts []string
	for _, a := range m.Artifacts {
		arts = append(arts, a.Target+"/"+a.Kind)
	}
	if m.Schema != 1 || m.Channel != "stable" || m.Version != "3.0.0" || m.Published != "2023-11-14T22:13:20Z" || m.Notes != "- faster & <safer>\n" ||
		strings.Join(arts, " ") != "termux-aarch64/binary termux-x86_64/deb linux-amd64/binary linux-amd64/deb" {
		t.Errorf("manifest:\n%s", manifest)
	}
	os.WriteFile(filepath.Join(dist, "manifest.json"), []byte(manifest), 0o644)
	if code, _, stderr := runCLI(t, nil, "release", "sign", "--key", filepath.Join(keys, "release.key"), filepath.Join(dist, "manifest.json")); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	sig, _ := os.ReadFile(filepath.Join(dist, "manifest.json.sig"))
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
	pk, _ := base64.StdEncoding.DecodeString(pub)
	if !ed25519.Verify(pk, []byte(manifest), raw) {
		t.Fatal("manifest.json.sig does not verify with release.pub")
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(dist)))
	t.Cleanup(srv.Close)
	code, out, stderr = runCLI(t, nil, "update", "check", "--update-url", srv.URL+"/manifest.json", "--update-keys", pub)
	if code != 0 || !strings.Contains(out, "update available: webui dev → 3.0.0") || !strings.Contains(out, "<safer>") {
		t.Errorf("check against the published feed: %d %s %s", code, out, stderr)
	}
	// Without the key, nothing is trusted (the built-in list is empty).
	code, _, stderr = runCLI(t, nil, "update", "check", "--update-url", srv.URL+"/manifest.json")
	if code != 1 || !strings.Contains(stderr, "no release key is trusted") {
		t.Errorf("check without keys: %d %s", code, stderr)
	}
}

// children lists pid's children whose state matches (from /proc/*/stat).
func children(pid int, zombie bool) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if (f[0] == "Z") == zombie {
			n, _ := strconv.Atoi(e.Name())
			out = append(out, n)
		}
	}
	return out
}

func zombieChildren(pid int) []int { return children(pid, true) }

func liveChildren(pid int) []int { return children(pid, false) }
