package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An installation is apt's when dpkg lists its binary as webui's and
// webui-repo's sources entry is installed: check says so without asking
// the feed, apply refuses; remove the entry (or webui-repo) and the
// signed self-update is back.
func TestAptSource(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.publish(t, "2.0.0", []Artifact{
		{Target: "linux-amd64", Kind: KindBinary, URL: "webui-linux-amd64"},
		{Target: "linux-amd64", Kind: KindDeb, URL: "webui_2.0.0_amd64.deb"},
	}, map[string][]byte{"webui-linux-amd64": []byte("binary"), "webui_2.0.0_amd64.deb": makeDeb(t, "", "webui", "2.0.0", "amd64")}, nil)
	in := newInstall(t, f, "usr/bin")
	admin := dpkgAdminDir(in.exe)
	os.MkdirAll(filepath.Join(admin, "info"), 0o755)
	prefix := filepath.Join(in.root, "usr")
	sources := filepath.Join(prefix, "etc", "apt", "sources.list.d", "webui.list")
	os.MkdirAll(filepath.Dir(sources), 0o755)
	os.WriteFile(sources, []byte("deb [signed-by=/x.gpg] https://example.org/apt stable main\n"), 0o644)
	writeList := func(pkg string, paths ...string) {
		os.WriteFile(filepath.Join(admin, "info", pkg+".list"), []byte(strings.Join(append([]string{"/."}, paths...), "\n")+"\n"), 0o644)
	}
	writeList("webui", filepath.Dir(in.exe), in.exe)

	// webui-repo not installed: self-update as before.
	s := in.service(t, "1.0.0")
	if res := s.Check(context.Background(), true); res.Apt != nil || !res.Available {
		t.Fatalf("without webui-repo: %+v", res)
	}

	writeList(RepoPackage, filepath.Dir(sources), sources, filepath.Join(prefix, "share", "keyrings", "webui-archive-keyring.gpg"))
	s = in.service(t, "1.0.0")
	res := s.Check(context.Background(), true)
	if res.Apt == nil || res.Apt.Sources != sources || res.Apt.Command != "pkg upgrade" || res.Available || res.Latest != "" {
		t.Fatalf("with webui-repo: %+v", res)
	}
	if !strings.Contains(res.Message, "pkg upgrade") {
		t.Errorf("message %q", res.Message)
	}
	_, err := s.Prepare(context.Background(), ApplyRequest{})
	var ue *Error
	if err == nil || !strings.Contains(err.Error(), "update it with `pkg upgrade`") || !errors.As(err, &ue) || ue.Code != 409 {
		t.Fatalf("apply: %v", err)
	}
	if AptRefusal(in.exe) == nil {
		t.Error("AptRefusal: nil")
	}
	in.unchanged(t)

	// The user left the repository: its entry is gone.
	os.Remove(sources)
	if res := in.service(t, "1.0.0").Check(context.Background(), true); res.Apt != nil || !res.Available {
		t.Errorf("sources entry removed: %+v", res)
	}
	if AptRefusal(in.exe) != nil {
		t.Error("AptRefusal after the entry went")
	}
}

func TestUpgradeCommand(t *testing.T) {
	t.Parallel()
	if got := upgradeCommand("/data/data/com.termux/files/usr/bin/webui"); got != "pkg upgrade" {
		t.Errorf("termux: %q", got)
	}
	if got := upgradeCommand("/usr/bin/webui"); !strings.Contains(got, "apt upgrade") {
		t.Errorf("debian: %q", got)
	}
}
