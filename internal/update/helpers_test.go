package update

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/debfile/debtest"
	"github.com/termux-webui/webui/internal/diag"
)

// feed is a release feed on loopback, signed with its own key.
type feed struct {
	dir   string
	srv   *httptest.Server
	pub   string
	key   ed25519.PrivateKey
	gets  atomic.Int64 // manifest fetches
	mu    sync.Mutex
	patch map[string]http.HandlerFunc // path -> override
}

func newFeed(t *testing.T) *feed {
	t.Helper()
	f := &feed{dir: t.TempDir(), patch: map[string]http.HandlerFunc{}}
	f.pub, f.key = mustKey(t)
	files := http.FileServer(http.Dir(f.dir))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/manifest.json" {
			f.gets.Add(1)
		}
		f.mu.Lock()
		h := f.patch[r.URL.Path]
		f.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *feed) url() string { return f.srv.URL + "/manifest.json" }

func (f *feed) override(path string, h http.HandlerFunc) {
	f.mu.Lock()
	f.patch[path] = h
	f.mu.Unlock()
}

// publish writes the artifacts and a signed manifest listing them;
// mutate may edit the manifest before it is signed.
func (f *feed) publish(t *testing.T, version string, arts []Artifact, content map[string][]byte, mutate func(*Manifest)) []byte {
	t.Helper()
	for name, b := range content {
		if err := os.WriteFile(filepath.Join(f.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := &Manifest{Schema: 1, Channel: "stable", Version: version, Published: time.Now().UTC().Format(time.RFC3339), Notes: "notes for " + version}
	for _, a := range arts {
		if b, ok := content[a.URL]; ok {
			if a.Size == 0 {
				a.Size = int64(len(b))
			}
			if a.SHA256 == "" {
				sum := sha256.Sum256(b)
				a.SHA256 = hex.EncodeToString(sum[:])
			}
		}
		m.Artifacts = append(m.Artifacts, a)
	}
	if mutate != nil {
		mutate(m)
	}
	raw, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.dir, "manifest.json"), raw, 0o644)
	os.WriteFile(filepath.Join(f.dir, "manifest.json.sig"), Sign(f.key, raw), 0o644)
	return raw
}

// binaryRelease publishes a linux-amd64 binary whose content is body.
func (f *feed) binaryRelease(t *testing.T, version string, body []byte, mutate func(*Manifest)) {
	t.Helper()
	f.publish(t, version, []Artifact{{Target: "linux-amd64", Kind: KindBinary, URL: "webui-linux-amd64"}},
		map[string][]byte{"webui-linux-amd64": body}, mutate)
}

// install is a fake installation: a "binary" at root/bin/webui.
type install struct {
	root, exe string
	cfg       *config.Config
	rec       *fakeRecorder
}

func newInstall(t *testing.T, f *feed, binDir string) *install {
	t.Helper()
	root := t.TempDir()
	in := &install{root: root, exe: filepath.Join(root, binDir, "webui"), rec: &fakeRecorder{}}
	os.MkdirAll(filepath.Dir(in.exe), 0o755)
	if err := os.WriteFile(in.exe, []byte("old binary 1.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	in.cfg = &config.Config{
		StateDir: filepath.Join(root, "state"), LogDir: filepath.Join(root, "log"), RunDir: filepath.Join(root, "run"),
		Addr: "127.0.0.1:0", UpdateURL: f.url(), UpdateKeys: []string{f.pub}, UpdateChannel: "stable",
		RestartDelay: time.Second, RestartSurvive: time.Second,
	}
	return in
}

func (in *install) service(t *testing.T, version string) *Service {
	t.Helper()
	s, err := New(Options{Config: in.cfg, Version: version, Exe: in.exe, Target: "linux-amd64", Recorder: in.rec})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unchanged asserts the binary is the old one and no .prev was made.
func (in *install) unchanged(t *testing.T) {
	t.Helper()
	if b, _ := os.ReadFile(in.exe); string(b) != "old binary 1.0.0" {
		t.Errorf("binary changed: %q", b)
	}
	if _, err := os.Stat(in.exe + ".prev"); err == nil {
		t.Error(".prev was created")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(in.exe), tempPrefix+"*")); len(m) > 0 {
		t.Errorf("temp files left: %v", m)
	}
}

type fakeRecorder struct {
	mu     sync.Mutex
	events []diag.Event
}

func (r *fakeRecorder) Update(ev diag.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *fakeRecorder) Path() string { return "" }

func (r *fakeRecorder) steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Step)
	}
	return out
}

// makeDeb is a minimal .deb of webui (see debtest), written to path
// unless it is "".
func makeDeb(t *testing.T, path, pkg, version, arch string) []byte {
	t.Helper()
	deb := debtest.Deb(pkg, version, arch, "./usr/bin/webui", "binary "+version)
	if path != "" {
		if err := os.WriteFile(path, deb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return deb
}
