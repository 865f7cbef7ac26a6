package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestUpdateApplyDpkg installs the v1 amd64 package with real dpkg in a
// throwaway root, then, inside that root, applies the v2 .deb offline
// with `webui update apply --from`, signed with a key made there by
// `webui release keygen/sign`. dpkg's database must list v2 afterwards and
// /usr/bin/webui must be v2.
func TestUpdateApplyDpkg(t *testing.T) {
	t.Parallel()
	require(t, runtime.GOARCH == "amd64", "installs the amd64 package; this machine is %s", runtime.GOARCH)
	s := newSandbox(t)
	old := debPath(debs(t, "update-v1", v1, "linux-amd64"), v1, "linux-amd64")
	newer := debPath(debs(t, "upgrade", v2, "termux-x86_64", "linux-amd64"), v2, "linux-amd64")

	s.dpkg(t, "--install", old)
	if got := s.status(t); got != "install ok installed "+v1 {
		t.Fatalf("status after install: %q", got)
	}
	// Put the v2 .deb into the sandbox: the overlay's upper layer is the
	// sandbox's own copy of the file system (no mount is active now).
	updDir := filepath.Join(s.upper, "root", "upd")
	if err := os.MkdirAll(updDir, 0o700); err != nil {
		t.Fatal(err)
	}
	deb := "/root/upd/" + filepath.Base(newer)
	if out, err := exec.Command("cp", newer, filepath.Join(updDir, filepath.Base(newer))).CombinedOutput(); err != nil {
		t.Fatalf("copy the v2 .deb: %v %s", err, out)
	}
	s.sh(t, "webui release keygen --out /root/upd/keys >/dev/null && webui release sign --key /root/upd/keys/release.key "+deb)
	begin := time.Now()
	out, err := s.exec("chroot", s.root, "sh", "-c", "webui update apply --yes --from "+deb+" --sig "+deb+".sig --update-keys \"$(cat /root/upd/keys/release.pub)\"")
	t.Logf("webui update apply (%s):\n%s", time.Since(begin).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("webui update apply: %v", err)
	}
	if got := s.status(t); got != "install ok installed "+v2 {
		t.Errorf("dpkg status after the update: %q, want %s", got, v2)
	}
	if out := s.sh(t, "/usr/bin/webui version"); !strings.Contains(out, v2) {
		t.Errorf("/usr/bin/webui version after the update: %q, want %s", out, v2)
	}
}
