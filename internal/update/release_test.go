package update

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuildManifest(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	files := map[string]string{
		"webui-linux-amd64":        "linux amd64 binary",
		"webui-termux-aarch64":     "termux aarch64 binary",
		"webui_1.2.0_amd64.deb":    "linux amd64 deb",
		"webui_1.2.0_x86_64.deb":   "termux x86_64 deb",
		"webui_1.2.0_aarch64.deb":  "termux aarch64 deb",
		"webui_1.2.0_arm64.deb":    "linux arm64 deb",
		"webui_1.1.0_amd64.deb":    "an older build",
		"webui_1.2.0_mips.deb":     "no such target",
		"manifest.json":            "{}",
		"manifest.json.sig":        "sig",
		"webui-linux-amd64.sha256": "x",
		"README":                   "x",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dist, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dist, "webui-linux-arm64"), 0o755) // a directory is no artifact
	pub := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m, skipped, err := BuildManifest(dist, "1.2.0", "", "## notes <b>", pub)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range m.Artifacts {
		got = append(got, a.Target+"/"+a.Kind+"="+a.URL)
		sum := sha256.Sum256([]byte(files[a.URL]))
		if a.Size != int64(len(files[a.URL])) || a.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: size %d sha %s", a.URL, a.Size, a.SHA256)
		}
	}
	want := "termux-aarch64/binary=webui-termux-aarch64 termux-aarch64/deb=webui_1.2.0_aarch64.deb termux-x86_64/deb=webui_1.2.0_x86_64.deb " +
		"linux-amd64/binary=webui-linux-amd64 linux-amd64/deb=webui_1.2.0_amd64.deb linux-arm64/deb=webui_1.2.0_arm64.deb"
	if strings.Join(got, " ") != want {
		t.Errorf("artifacts:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if m.Channel != "stable" || m.Published != "2026-01-02T03:04:05Z" || m.Schema != 1 || m.Version != "1.2.0" {
		t.Errorf("manifest header: %+v", m)
	}
	if len(skipped) != 2 || !strings.Contains(strings.Join(skipped, ";"), "version 1.1.0, not 1.2.0") || !strings.Contains(strings.Join(skipped, ";"), `"mips"`) {
		t.Errorf("skipped: %q", skipped)
	}
	b, err := MarshalManifest(m)
	if err != nil || !strings.Contains(string(b), "## notes <b>") || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("marshal: %v\n%s", err, b)
	}
	// What it writes, it reads back.
	if _, err := ParseManifest(b); err != nil {
		t.Errorf("round trip: %v", err)
	}

	if _, _, err := BuildManifest(t.TempDir(), "1.2.0", "stable", "", pub); err == nil || !strings.Contains(err.Error(), "no release artifacts") {
		t.Errorf("empty dist: %v", err)
	}
	if _, _, err := BuildManifest(dist, "latest", "stable", "", pub); err == nil {
		t.Error("bad version accepted")
	}
}
