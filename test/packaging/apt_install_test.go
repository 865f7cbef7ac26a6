package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestAptInstallFromRepository is the user's path on Debian, in a dpkg
// sandbox: install webui-repo, `apt-get install webui` from the repository
// on loopback, and then webui's own updater stands aside (`webui update
// check` points to apt, `webui update apply` refuses) while `apt-get
// upgrade` brings the newer build. Without the sources entry, self-update
// is back.
func TestAptInstallFromRepository(t *testing.T) {
	t.Parallel()
	require(t, runtime.GOARCH == "amd64", "installs the amd64 package; this machine is %s", runtime.GOARCH)
	tool(t, "apt-get")
	s := newSandbox(t)
	dist1 := mainDebs(t)
	webui := webuiBin(t, dist1)
	repo := filepath.Join(t.TempDir(), "repo")
	publish(t, webui, dist1, filepath.Join(aptKeyDir, "apt.key"), repo)
	serveRepo("install", repo)

	upd := filepath.Join(s.upper, "root", "upd")
	if err := os.MkdirAll(upd, 0o700); err != nil {
		t.Fatal(err)
	}
	repoDeb := repoDebName("linux", v1)
	if out, err := exec.Command("cp", filepath.Join(dist1, repoDeb), upd).CombinedOutput(); err != nil {
		t.Fatalf("copy webui-repo: %v %s", err, out)
	}
	// The sandbox's apt sees only webui's repository (the host's entries
	// are removed from the overlay, not from the host). The entry is the
	// package's own, its URL moved to this test's copy of the repository.
	const apt = "apt-get -q -o APT::Sandbox::User=root -o Acquire::Retries=0"
	out := s.sh(t, `set -e
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
dpkg -i /root/upd/`+repoDeb+`
sed -i 's#`+aptRepoURL("good")+` #`+aptRepoURL("install")+` #' /etc/apt/sources.list.d/webui.list
cat /etc/apt/sources.list.d/webui.list
`+apt+` update
`+apt+` install -y webui
webui version`)
	t.Logf("install from the repository:\n%s", out)
	if !strings.Contains(out, "signed-by=/usr/share/keyrings/webui-archive-keyring.gpg") || !strings.Contains(out, v1) {
		t.Fatalf("webui %s was not installed from the repository", v1)
	}
	if got := s.status(t); got != "install ok installed "+v1 {
		t.Fatalf("dpkg status: %q", got)
	}

	// One updater: webui's own stands aside.
	out = s.sh(t, "webui update check; webui update check --json")
	t.Logf("webui update check:\n%s", out)
	if !strings.Contains(out, "installed from its apt repository (/etc/apt/sources.list.d/webui.list)") || !strings.Contains(out, "apt upgrade") ||
		!strings.Contains(out, `"apt": {`) {
		t.Errorf("webui update check:\n%s", out)
	}
	out, err := s.exec("chroot", s.root, "webui", "update", "apply", "--yes")
	t.Logf("webui update apply --yes: %v\n%s", err, out)
	if err == nil || !strings.Contains(out, "update it with `apt update && apt upgrade`") {
		t.Errorf("webui update apply: %v, want a refusal that points to apt:\n%s", err, out)
	}

	// apt brings the newer build.
	publishAt(t, webui, debs(t, "upgrade", v2, "termux-x86_64", "linux-amd64"), filepath.Join(aptKeyDir, "apt.key"), repo, epoch+3600)
	out = s.sh(t, apt+" update && "+apt+" upgrade -y && webui version")
	if got := s.status(t); got != "install ok installed "+v2 || !strings.Contains(out, v2) {
		t.Errorf("after apt-get upgrade: status %q\n%s", got, out)
	}

	// Leaving the repository (its entry deleted) gives self-update back.
	out, _ = s.exec("chroot", s.root, "sh", "-c", "rm /etc/apt/sources.list.d/webui.list; webui update check --update-url http://127.0.0.1:1/manifest.json")
	if strings.Contains(out, "apt repository") {
		t.Errorf("webui update check without the sources entry still defers to apt:\n%s", out)
	}
}
