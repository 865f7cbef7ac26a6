package update

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Packages built by dpkg-deb, whose control data may be xz or zstd, are
// read as well as the project's own (gzip).
func TestReadDebControlEveryCompression(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dpkg-deb missing")
		}
		t.Skip("dpkg-deb not installed")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: webui\nVersion: 2.0.1~rc1\nArchitecture: aarch64\nMaintainer: t <t@example.org>\nDescription: t\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, z := range []string{"gzip", "xz", "zstd"} {
		deb := filepath.Join(dir, z+".deb")
		if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Z"+z, "--build", root, deb).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -Z%s: %v: %s", z, err, out)
		}
		d, err := readDebControl(deb)
		if err != nil || d != (debInfo{"webui", "2.0.1~rc1", "aarch64"}) {
			t.Errorf("%s: %+v %v", z, d, err)
		}
	}
}
