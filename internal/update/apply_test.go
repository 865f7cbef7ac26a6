package update

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/paths"
)

// Without a running server, an apply swaps the binary and is done.
func TestApplySwapWithoutServer(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.binaryRelease(t, "2.0.0", []byte("new binary 2.0.0"), nil)
	in := newInstall(t, f, "bin")
	s := in.service(t, "1.0.0")
	var progress []int64
	j, err := s.Prepare(context.Background(), ApplyRequest{Progress: func(n, total int64) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if j.From() != "1.0.0" || j.To() != "2.0.0" || j.Method() != MethodSwap || j.Size() != 16 {
		t.Errorf("job %s → %s %s %d", j.From(), j.To(), j.Method(), j.Size())
	}
	if st := s.Status(); st.State != StateDownloading || st.Progress.Total != 16 {
		t.Errorf("status while prepared: %+v", st)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(in.exe); string(b) != "new binary 2.0.0" {
		t.Errorf("binary: %q", b)
	}
	if b, _ := os.ReadFile(in.exe + ".prev"); string(b) != "old binary 1.0.0" {
		t.Errorf(".prev: %q", b)
	}
	if st, _ := os.Stat(in.exe); st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", st.Mode())
	}
	st := s.Status()
	if st.State != StateDone || !strings.Contains(st.Message, "updated 1.0.0 → 2.0.0") || st.Progress.Bytes != 16 {
		t.Errorf("status: %+v", st)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 16 {
		t.Errorf("progress: %v", progress)
	}
	if _, err := os.Stat(paths.State(in.cfg.StateDir).Updates().Staging()); !os.IsNotExist(err) {
		t.Errorf("staging left: %v", err)
	}
	if got := strings.Join(in.rec.steps(), ","); got != "started,installed,updated" {
		t.Errorf("recorded steps %s", got)
	}
	// The lock is free again.
	l, err := TryLock(in.cfg.StateDir)
	if err != nil {
		t.Fatalf("lock after apply: %v", err)
	}
	l.Release()
}

// Every way a release can be bad is refused, and nothing on disk changes.
func TestApplyRejects(t *testing.T) {
	t.Parallel()
	good := []byte("new binary 2.0.0")
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *feed)
		req     ApplyRequest
		prepare string // error from Prepare, or "" when Run must fail
		run     string
	}{
		{name: "tampered artifact", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, nil)
			os.WriteFile(filepath.Join(f.dir, "webui-linux-amd64"), []byte("evil binary 2.0.0"[:16]), 0o644)
		}, run: "sha256 mismatch"},
		{name: "bad signature", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, nil)
			os.WriteFile(filepath.Join(f.dir, "manifest.json.sig"), Sign(f.key, []byte("other bytes")), 0o644)
		}, prepare: "does not match any of the 1 trusted release keys"},
		{name: "tampered manifest", setup: func(t *testing.T, f *feed) {
			raw := f.publish(t, "2.0.0", []Artifact{{Target: "linux-amd64", Kind: KindBinary, URL: "webui-linux-amd64"}}, map[string][]byte{"webui-linux-amd64": good}, nil)
			os.WriteFile(filepath.Join(f.dir, "manifest.json"), []byte(strings.Replace(string(raw), "notes for", "Notes for", 1)), 0o644)
		}, prepare: "does not match"},
		{name: "unknown key", setup: func(t *testing.T, f *feed) {
			_, f.key = mustKey(t)
			f.binaryRelease(t, "2.0.0", good, nil)
		}, prepare: "does not match any of the 1 trusted release keys"},
		{name: "no signature", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, nil)
			os.Remove(filepath.Join(f.dir, "manifest.json.sig"))
		}, prepare: "404 Not Found"},
		{name: "truncated download", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, nil)
			f.override("/webui-linux-amd64", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "16")
				w.Write(good[:7])
			})
		}, run: "truncated download: got 7 of 16 bytes"},
		{name: "manifest server error", setup: func(t *testing.T, f *feed) {
			f.override("/manifest.json", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
		}, prepare: "500 Internal Server Error"},
		{name: "downgrade", setup: func(t *testing.T, f *feed) { f.binaryRelease(t, "0.9.0", good, nil) },
			prepare: "refusing to downgrade from 1.0.0 to 0.9.0"},
		{name: "up to date", setup: func(t *testing.T, f *feed) { f.binaryRelease(t, "1.0.0", good, nil) },
			prepare: "already up to date"},
		{name: "other channel", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, func(m *Manifest) { m.Channel = "beta" })
		}, prepare: `channel "beta"`},
		{name: "no artifact for target", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, func(m *Manifest) { m.Artifacts[0].Target = "linux-arm64" })
		}, prepare: "has no binary artifact for linux-amd64"},
		{name: "size above the manifest's", setup: func(t *testing.T, f *feed) {
			f.binaryRelease(t, "2.0.0", good, func(m *Manifest) { m.Artifacts[0].Size = 10 })
		}, run: "the manifest says 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFeed(t)
			tt.setup(t, f)
			in := newInstall(t, f, "bin")
			s := in.service(t, "1.0.0")
			j, err := s.Prepare(context.Background(), tt.req)
			if tt.prepare != "" {
				if err == nil || !strings.Contains(err.Error(), tt.prepare) {
					t.Fatalf("Prepare: %v, want %q", err, tt.prepare)
				}
			} else {
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				err = j.Run(context.Background())
				if err == nil || !strings.Contains(err.Error(), tt.run) || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("Run: %v, want %q", err, tt.run)
				}
				if st := s.Status(); st.State != StateFailed || !strings.Contains(st.Message, tt.run) {
					t.Errorf("status %+v", st)
				}
			}
			in.unchanged(t)
			if _, err := os.Stat(paths.State(in.cfg.StateDir).Updates().Staging()); !os.IsNotExist(err) {
				t.Errorf("staging left: %v", err)
			}
		})
	}
}

func TestApplyDowngradeAllowed(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.binaryRelease(t, "0.9.0", []byte("old old binary"), nil)
	in := newInstall(t, f, "bin")
	j, err := in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{AllowDowngrade: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(in.exe); string(b) != "old old binary" {
		t.Errorf("binary %q", b)
	}
}

// One apply at a time: a second gets ErrBusy (409) while the first holds
// the lock.
func TestApplyBusy(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.binaryRelease(t, "2.0.0", []byte("new binary 2.0.0"), nil)
	in := newInstall(t, f, "bin")
	s := in.service(t, "1.0.0")
	j, err := s.Prepare(context.Background(), ApplyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{})
	var ue *Error
	if !errors.Is(err, ErrBusy) || !errors.As(err, &ue) || ue.HTTPStatus() != 409 {
		t.Fatalf("second apply: %v", err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckCache(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.binaryRelease(t, "2.0.0", []byte("new binary 2.0.0"), nil)
	in := newInstall(t, f, "bin")
	s := in.service(t, "1.0.0")
	r1 := s.Check(context.Background(), false)
	if r1.Error != "" || !r1.Available || r1.Latest != "2.0.0" || r1.Current != "1.0.0" || r1.Target != "linux-amd64" || r1.Notes != "notes for 2.0.0" || r1.Cached {
		t.Fatalf("check: %+v", r1)
	}
	r2 := s.Check(context.Background(), false)
	if !r2.Cached || f.gets.Load() != 1 {
		t.Errorf("second check: cached %v, %d fetches", r2.Cached, f.gets.Load())
	}
	s.Check(context.Background(), true)
	if f.gets.Load() != 2 {
		t.Errorf("forced check: %d fetches", f.gets.Load())
	}
	if r := in.service(t, "2.0.0").Check(context.Background(), false); r.Available || r.Error != "" {
		t.Errorf("up to date: %+v", r)
	}
	if last, ok, err := ReadLastCheck(in.cfg.StateDir); !ok || err != nil || last.Latest != "2.0.0" || last.Available {
		t.Errorf("kept for the doctor: %+v %v %v", last, ok, err)
	}
	in.cfg.UpdateKeys = nil
	if r := in.service(t, "1.0.0").Check(context.Background(), false); !strings.Contains(r.Error, "no release key is trusted") {
		t.Errorf("no keys: %+v", r)
	}
	last, _, _ := ReadLastCheck(in.cfg.StateDir)
	if !strings.Contains(last.Error, "no release key is trusted") {
		t.Errorf("a failed check is kept too: %+v", last)
	}
	if st, err := os.Stat(paths.State(in.cfg.StateDir).Updates().LastCheck()); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("check.json: %v %v", st, err)
	}
	if err := os.WriteFile(paths.State(in.cfg.StateDir).Updates().LastCheck(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadLastCheck(in.cfg.StateDir); ok || err == nil {
		t.Errorf("a damaged check.json: ok %v err %v", ok, err)
	}
}

// Not enough space in the state dir: refused before any download, with
// the directory and the numbers.
func TestApplyNotEnoughSpace(t *testing.T) {
	f := newFeed(t)
	f.binaryRelease(t, "2.0.0", make([]byte, 3<<20), nil)
	in := newInstall(t, f, "bin")
	orig := freeBytes
	defer func() { freeBytes = orig }()
	freeBytes = func(dir string) (int64, error) { return 5 << 20, nil }
	_, err := in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{})
	var ue *Error
	if err == nil || !errors.As(err, &ue) || ue.Code != 507 ||
		!strings.Contains(err.Error(), "not enough free space in "+string(paths.State(in.cfg.StateDir).Updates())) ||
		!strings.Contains(err.Error(), "needs 14.0 MiB (2 × the 3.0 MiB artifact plus a 8.0 MiB margin), but only 5.0 MiB is free") {
		t.Fatalf("space: %v", err)
	}
	in.unchanged(t)
	if f.gets.Load() != 1 {
		t.Errorf("manifest fetched %d times", f.gets.Load())
	}
	if st, _ := ReadStatus(in.cfg.StateDir); st.State != StateFailed || !strings.Contains(st.Message, "not enough free space") {
		t.Errorf("status %+v", st)
	}
}

// The offline path: a local artifact with its detached signature.
func TestApplyFromArtifact(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	in := newInstall(t, f, "bin")
	dir := t.TempDir()
	deb := filepath.Join(dir, "webui_2.0.0_amd64.deb")
	data := makeDeb(t, deb, "webui", "2.0.0", "amd64")
	os.WriteFile(deb+".sig", Sign(f.key, data), 0o644)
	// This installation swaps binaries, so a .deb does not fit it.
	_, err := in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{From: deb})
	if err == nil || !strings.Contains(err.Error(), "updated with a binary (swap), and") {
		t.Fatalf("deb for a swap install: %v", err)
	}
	// A bad signature is refused before anything else.
	os.WriteFile(deb+".sig", Sign(f.key, []byte("x")), 0o644)
	_, err = in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{From: deb})
	if err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("bad detached signature: %v", err)
	}
	in.unchanged(t)
}

// The offline path: a manifest and its signature copied to a directory
// with the artifact.
func TestApplyFromLocalManifest(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	f.binaryRelease(t, "2.0.0", []byte("new binary 2.0.0"), nil)
	in := newInstall(t, f, "bin")
	in.cfg.UpdateURL = "https://unreachable.invalid/manifest.json"
	j, err := in.service(t, "1.0.0").Prepare(context.Background(), ApplyRequest{From: filepath.Join(f.dir, "manifest.json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(in.exe); string(b) != "new binary 2.0.0" {
		t.Errorf("binary %q", b)
	}
}

// A server that starts while no update holds the lock settles what an
// interrupted one left behind.
func TestStartupSettles(t *testing.T) {
	t.Parallel()
	f := newFeed(t)
	in := newInstall(t, f, "bin")
	WriteStatus(in.cfg.StateDir, Status{State: StateDownloading, From: "1.0.0", To: "2.0.0"})
	os.MkdirAll(paths.State(in.cfg.StateDir).Updates().Staging(), 0o700)
	os.WriteFile(filepath.Join(filepath.Dir(in.exe), tempPrefix+"new-123"), []byte("half"), 0o755)
	in.service(t, "1.0.0").Startup()
	st, _ := ReadStatus(in.cfg.StateDir)
	if st.State != StateFailed || !strings.Contains(st.Message, "interrupted while downloading") {
		t.Errorf("status %+v", st)
	}
	in.unchanged(t)
	if _, err := os.Stat(paths.State(in.cfg.StateDir).Updates().Staging()); !os.IsNotExist(err) {
		t.Error("staging left")
	}

	// Installed and pending, the helper gone: the new version finishes it.
	writePending(paths.State(in.cfg.StateDir).Updates().Pending(), Pending{From: "1.0.0", To: "2.0.0", Exe: in.exe, Method: MethodSwap})
	in.service(t, "2.0.0").Startup()
	st, _ = ReadStatus(in.cfg.StateDir)
	if st.State != StateDone || !strings.Contains(st.Message, "updated 1.0.0 → 2.0.0") {
		t.Errorf("status %+v", st)
	}
	if _, err := os.Stat(paths.State(in.cfg.StateDir).Updates().Pending()); !os.IsNotExist(err) {
		t.Error("pending left")
	}

	// A lock holder (a confirming helper) is left alone.
	WriteStatus(in.cfg.StateDir, Status{State: StateConfirming, From: "1.0.0", To: "2.0.0"})
	l, _ := TryLock(in.cfg.StateDir)
	in.service(t, "2.0.0").Startup()
	l.Release()
	if st, _ := ReadStatus(in.cfg.StateDir); st.State != StateConfirming {
		t.Errorf("status changed under a lock holder: %+v", st)
	}
}
