package update

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/termux-webui/webui/internal/paths"
)

func TestSwapBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "webui")
	staged := filepath.Join(dir, "staged")
	os.WriteFile(exe, []byte("old"), 0o750)
	os.WriteFile(staged, []byte("new"), 0o600)
	var before syscall.Stat_t
	syscall.Stat(exe, &before)
	prev, err := swapBinary(exe, staged)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(exe); string(b) != "new" {
		t.Errorf("exe %q", b)
	}
	st, _ := os.Stat(exe)
	if st.Mode().Perm() != 0o751 {
		t.Errorf("mode %v, want the old mode, executable", st.Mode())
	}
	// .prev is the old file itself (a hard link), not a copy.
	var p syscall.Stat_t
	syscall.Stat(prev, &p)
	if prev != exe+".prev" || p.Ino != before.Ino {
		t.Errorf("prev %s inode %d, old inode %d", prev, p.Ino, before.Ino)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(m) > 0 {
		t.Errorf("temp files left: %v", m)
	}
	// A second update replaces .prev.
	os.WriteFile(staged, []byte("newer"), 0o600)
	if _, err := swapBinary(exe, staged); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(prev); string(b) != "new" {
		t.Errorf("prev after a second swap: %q", b)
	}
	if err := restorePrev(exe, prev); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(exe); string(b) != "new" {
		t.Errorf("restored %q", b)
	}
	if _, err := os.Stat(prev); !os.IsNotExist(err) {
		t.Error("prev still there after restore")
	}
}

func TestPlanInstallNotWritable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere")
	}
	_, err := planInstall("/usr/bin/env")
	if err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("read-only dir: %v", err)
	}
}

func TestReadDebControl(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.deb")
	makeDeb(t, path, "webui", "1.2.3~rc1+4.gabc", "x86_64")
	d, err := readDebControl(path)
	if err != nil || d.Package != "webui" || d.Version != "1.2.3~rc1+4.gabc" || d.Architecture != "x86_64" {
		t.Fatalf("%+v %v", d, err)
	}
	if !isDeb(path) {
		t.Error("isDeb false")
	}
	os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644)
	if _, err := readDebControl(path); err == nil || isDeb(path) {
		t.Error("a script read as a deb")
	}
}

func TestDetectTarget(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("table for linux/amd64")
	}
	for exe, want := range map[string]string{
		"/usr/bin/webui": "linux-amd64",
		"/tmp/x/webui":   "linux-amd64",
		"/data/data/com.termux/files/usr/bin/webui": "termux-x86_64",
	} {
		if got, err := DetectTarget(exe); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", exe, got, err, want)
		}
	}
}

// The dpkg path, with a stand-in dpkg: an installation whose binary is in
// the webui package's file list and whose dpkg database is writable is
// updated with `dpkg -i` (WEBUI_UPDATING=1), keeping .prev, caching the
// .deb; a rollback reinstalls the cached .deb of the old version.
// (Not parallel: it replaces lookPath.)
func TestApplyDpkg(t *testing.T) {
	f := newFeed(t)
	in := newInstall(t, f, "usr/bin")
	admin := dpkgAdminDir(in.exe) // root/usr/var/lib/dpkg: the Termux layout
	if admin != filepath.Join(in.root, "usr", "var", "lib", "dpkg") {
		t.Fatalf("admin dir %s", admin)
	}
	os.MkdirAll(filepath.Join(admin, "info"), 0o755)
	os.WriteFile(filepath.Join(admin, "info", "webui.list"), []byte("/.\n"+filepath.Dir(in.exe)+"\n"+in.exe+"\n"), 0o644)

	// The stand-in installs what the data member says, by rename as dpkg
	// does, and logs its arguments and WEBUI_UPDATING.
	log := filepath.Join(in.root, "dpkg.log")
	fake := filepath.Join(in.root, "fake-dpkg")
	os.WriteFile(fake, []byte(`#!/bin/sh
eval deb=\${$#}
echo "$* WEBUI_UPDATING=$WEBUI_UPDATING" >> `+log+`
printf 'installed from %s' "$(basename "$deb")" > `+in.exe+`.dpkg-new
chmod 755 `+in.exe+`.dpkg-new
mv `+in.exe+`.dpkg-new `+in.exe+`
`), 0o755)
	orig := lookPath
	defer func() { lookPath = orig }()
	lookPath = func(name string) (string, error) { return fake, nil }

	debV2 := makeDeb(t, "", "webui", "2.0.0", "amd64")
	f.publish(t, "2.0.0", []Artifact{
		{Target: "linux-amd64", Kind: KindBinary, URL: "webui-linux-amd64"},
		{Target: "linux-amd64", Kind: KindDeb, URL: "webui_2.0.0_amd64.deb"},
	}, map[string][]byte{"webui-linux-amd64": []byte("binary"), "webui_2.0.0_amd64.deb": debV2}, nil)
	j, err := in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Method() != MethodDpkg {
		t.Fatalf("method %s", j.Method())
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(log)
	if !strings.Contains(string(out), "--force-confold -i ") || !strings.Contains(string(out), "WEBUI_UPDATING=1") {
		t.Errorf("dpkg ran as: %s", out)
	}
	if b, _ := os.ReadFile(in.exe); !strings.HasPrefix(string(b), "installed from webui-2.0.0-linux-amd64.deb") {
		t.Errorf("binary %q", b)
	}
	if b, _ := os.ReadFile(in.exe + ".prev"); string(b) != "old binary 1.0.0" {
		t.Errorf(".prev %q", b)
	}
	if cachedDeb(paths.State(in.cfg.StateDir).Updates().CurrentDeb(), "2.0.0") == "" {
		t.Error("the installed .deb is not cached")
	}

	// 2.0.0 → 3.0.0; then the confirmation fails: the rollback reinstalls
	// the cached 2.0.0 .deb.
	f.publish(t, "3.0.0", []Artifact{{Target: "linux-amd64", Kind: KindDeb, URL: "webui_3.0.0_amd64.deb"}},
		map[string][]byte{"webui_3.0.0_amd64.deb": makeDeb(t, "", "webui", "3.0.0", "amd64")}, nil)
	j, err = in.service(t, "2.0.0").Prepare(context.Background(), ApplyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	prevDeb := cachedDeb(paths.State(in.cfg.StateDir).Updates().PrevDeb(), "2.0.0")
	if prevDeb == "" {
		t.Fatal("the 2.0.0 .deb is not kept for a rollback")
	}
	c := &confirmer{p: Pending{From: "2.0.0", To: "3.0.0", Method: MethodDpkg, Exe: in.exe, Prev: in.exe + ".prev", Dpkg: fake, StateDir: in.cfg.StateDir}, logf: t.Logf}
	note, err := c.restoreBinary(context.Background())
	if err != nil || !strings.Contains(note, "reinstalled the cached 2.0.0 .deb") {
		t.Fatalf("rollback: %q %v", note, err)
	}
	if b, _ := os.ReadFile(in.exe); string(b) != "installed from prev.deb" {
		t.Errorf("after the rollback: %q", b)
	}

	// Without a cached .deb, only the binary comes back, and it says so.
	os.Remove(prevDeb)
	os.WriteFile(in.exe+".prev", []byte("binary 2.0.0"), 0o755)
	note, err = c.restoreBinary(context.Background())
	if err != nil || !strings.Contains(note, "dpkg's database still lists webui 3.0.0") {
		t.Fatalf("binary-only rollback: %q %v", note, err)
	}
	if b, _ := os.ReadFile(in.exe); string(b) != "binary 2.0.0" {
		t.Errorf("after the binary-only rollback: %q", b)
	}
}
