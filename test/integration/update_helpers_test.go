package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	updOnce          sync.Once
	updV1, updV2     string // binaries 1.0.0 and 2.0.0
	updV2Bytes       []byte
	updV1Bytes       []byte
	updBuildErr      error
	updateVersionVar = "-X github.com/termux-webui/webui/internal/version.Version="
)

func updBinaries(t *testing.T) {
	t.Helper()
	updOnce.Do(func() {
		updV1, updV2 = filepath.Join(buildDir, "webui-1.0.0"), filepath.Join(buildDir, "webui-2.0.0")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, v := range []struct{ out, ver string }{{updV1, "1.0.0"}, {updV2, "2.0.0"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := build(v.out, "webuitest", updateVersionVar+v.ver); err != nil {
					errs[i] = fmt.Errorf("build %s: %v\n%s", v.ver, err, out)
				}
			}()
		}
		wg.Wait()
		if updBuildErr = errors.Join(errs...); updBuildErr == nil {
			updV1Bytes, _ = os.ReadFile(updV1)
			updV2Bytes, _ = os.ReadFile(updV2)
		}
	})
	if updBuildErr != nil {
		t.Fatal(updBuildErr)
	}
}

// updFeed is a release feed: manifest.json, its signature and artifacts.
type updFeed struct {
	dir  string
	srv  *httptest.Server
	pub  string
	key  ed25519.PrivateKey
	mu   sync.Mutex
	slow map[string]time.Duration // path -> spread the body over this long
	hook map[string]http.HandlerFunc
}

func newUpdFeed(t *testing.T) *updFeed {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &updFeed{dir: t.TempDir(), pub: base64.StdEncoding.EncodeToString(pub), key: key,
		slow: map[string]time.Duration{}, hook: map[string]http.HandlerFunc{}}
	files := http.FileServer(http.Dir(f.dir))
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h, slow := f.hook[r.URL.Path], f.slow[r.URL.Path]
		f.mu.Unlock()
		switch {
		case h != nil:
			h(w, r)
		case slow > 0:
			b, err := os.ReadFile(filepath.Join(f.dir, filepath.Base(r.URL.Path)))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			const parts = 10
			for i := 0; i < parts; i++ {
				if _, err := w.Write(b[i*len(b)/parts : (i+1)*len(b)/parts]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(slow / parts)
			}
		default:
			files.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *updFeed) url() string { return f.srv.URL + "/manifest.json" }

// publish serves body as the linux-amd64 binary of version, in a manifest
// signed by key (the feed's own when nil); mutate edits the manifest
// before it is signed.
func (f *updFeed) publish(t *testing.T, version string, body []byte, key ed25519.PrivateKey, mutate func(m map[string]any)) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, "webui-linux-amd64"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	m := map[string]any{"schema": 1, "channel": "stable", "version": version, "published": time.Now().UTC().Format(time.RFC3339),
		"notes":     "## " + version + "\n- better",
		"artifacts": []map[string]any{{"target": "linux-amd64", "kind": "binary", "url": "webui-linux-amd64", "size": len(body), "sha256": hex.EncodeToString(sum[:])}}}
	if mutate != nil {
		mutate(m)
	}
	raw, _ := json.MarshalIndent(m, "", "  ")
	if key == nil {
		key = f.key
	}
	os.WriteFile(filepath.Join(f.dir, "manifest.json"), raw, 0o644)
	os.WriteFile(filepath.Join(f.dir, "manifest.json.sig"), []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw))+"\n"), 0o644)
}

// updServer starts a 1.0.0 server from a copy of its own at dir/bin/webui,
// on a fixed port, with exec restarts and the feed configured.
func updServer(t *testing.T, f *updFeed, o opts) (*proc, string) {
	t.Helper()
	updBinaries(t)
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	bin := filepath.Join(o.dir, "bin", "webui")
	if _, err := os.Stat(bin); err != nil {
		updInstallV1(t, bin)
	}
	o.bin = bin
	addr := freeAddr(t)
	o.args = append([]string{"--addr", addr, "--restart-mode", "exec", "--update-url", f.url(), "--update-keys", f.pub, "--update-interval", "0"}, o.args...)
	p := start(t, o)
	t.Cleanup(func() { updCleanup(p.dir) })
	return p, bin
}

// updInstallV1 puts the 1.0.0 binary at bin by a hard link: writing a
// copy would leave a write fd open while parallel tests fork, and exec
// would then fail with ETXTBSY. Updates replace bin by rename, never in
// place, so the shared file stays 1.0.0.
func updInstallV1(t *testing.T, bin string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(updV1, bin); err != nil {
		if out, err := exec.Command("cp", updV1, bin).CombinedOutput(); err != nil {
			t.Fatalf("install 1.0.0: %v %s", err, out)
		}
	}
}

// updCleanup stops what an update started outside the test's children: a
// confirmation helper still running, a server a rollback started.
func updCleanup(dir string) {
	if b, err := os.ReadFile(filepath.Join(dir, "state", "updates", "pending.json")); err == nil {
		var p struct {
			HelperPID int `json:"helper_pid"`
		}
		if json.Unmarshal(b, &p) == nil && p.HelperPID > 0 {
			syscall.Kill(p.HelperPID, syscall.SIGKILL)
		}
	}
	if pid := ctlHolder(filepath.Join(dir, "run", "webui.pid")); pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// updPost sends a CSRF-protected POST and returns the status and body.
func updPost(t *testing.T, addr, path, body string) (int, string) {
	t.Helper()
	c := ownerClient(30 * time.Second)
	resp, err := c.Get("http://" + addr + "/api/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("X-CSRF-Token", tok.Token)
	req.Header.Set("Origin", "http://"+addr)
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type updStatus struct {
	State    string `json:"state"`
	From     string `json:"from"`
	To       string `json:"to"`
	Message  string `json:"message"`
	Progress struct {
		Bytes int64 `json:"bytes"`
		Total int64 `json:"total"`
	} `json:"progress"`
}

func updGetStatus(addr string) (updStatus, error) {
	c := ownerClient(5 * time.Second)
	resp, err := c.Get("http://" + addr + "/api/updates/status")
	if err != nil {
		return updStatus{}, err
	}
	defer resp.Body.Close()
	var st updStatus
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// updWaitState polls /api/updates/status until one of the states.
func updWaitState(t *testing.T, addr string, within time.Duration, states ...string) updStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	var st updStatus
	var err error
	for time.Now().Before(deadline) {
		if st, err = updGetStatus(addr); err == nil {
			for _, s := range states {
				if st.State == s {
					return st
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("update status never reached %v: last %+v %v", states, st, err)
	return st
}

// updUnchanged asserts the binary is still 1.0.0, byte for byte, with no
// .prev beside it, and the same server still serves 1.0.0.
func updUnchanged(t *testing.T, p *proc, bin string) {
	t.Helper()
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV1Bytes) {
		t.Errorf("the binary changed (%d bytes)", len(b))
	}
	if _, err := os.Stat(bin + ".prev"); err == nil {
		t.Error(".prev was created")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(bin), ".webui-update-*")); len(m) > 0 {
		t.Errorf("temp files left beside the binary: %v", m)
	}
	code, h := p.health(false)
	if code != 200 || h.Version != "1.0.0" || h.PID != p.pid() {
		t.Errorf("after the refused update: %d, version %s, pid %d (want 1.0.0, pid %d)", code, h.Version, h.PID, p.pid())
	}
}

// updEvents returns the "update" events in a state dir's lifetime records.
func updEvents(stateDir string) []map[string]any {
	files, _ := filepath.Glob(filepath.Join(stateDir, "lifetimes", "*.jsonl"))
	var out []map[string]any
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["event"] == "update" {
				out = append(out, ev)
			}
		}
	}
	return out
}

func updSteps(stateDir string) string {
	var s []string
	for _, ev := range updEvents(stateDir) {
		s = append(s, fmt.Sprint(ev["step"]))
	}
	return strings.Join(s, ",")
}
