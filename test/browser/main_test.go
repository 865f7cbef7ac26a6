// Package browser drives the phone console in headless Chromium at 360×740
// with mobile emulation: every page loads without errors, login, an update
// end to end, a settings change, and another origin's failed attempts to
// use the API. Screenshots go to test/artifacts/.
//
// Without Chromium the tests skip and say why, except with CI=true, where
// they fail: CI must install it (apt-get install chromium).
package browser

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

// baseVersion is the version the test binary is built with.
const baseVersion = "1.0.0"

var (
	binary     string
	buildDir   string
	repoRoot   string
	chromePath string
	skipReason string
)

func TestMain(m *testing.M) {
	var err error
	if repoRoot, err = harness.RepoRoot(); err != nil {
		panic(err)
	}
	chromePath = findChrome()
	if chromePath == "" {
		skipReason = "no Chromium found (apt-get install chromium, or set CHROME=/path)"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "browser tests: "+skipReason+"; CI=true needs it")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "browser tests skipped: "+skipReason)
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "webui-browser-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	binary = filepath.Join(dir, "webui")
	if out, err := build(binary, baseVersion); err != nil {
		fmt.Fprintf(os.Stderr, "build failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func findChrome() string {
	if p := os.Getenv("CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// build compiles cmd/webui with the webuitest tag at version v.
func build(out, v string) ([]byte, error) {
	return harness.Build(repoRoot, out, "./cmd/webui", "webuitest", harness.VersionFlag(v))
}

func needChrome(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// ---- the webui process ----------------------------------------------------

type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	conf   string
	addr   string
	out    *harness.SyncBuffer
	done   <-chan struct{}
	client *http.Client
}

type serverOpts struct {
	bin    string   // default: the base binary
	config string   // webui.conf content
	args   []string // more serve flags
	dir    string   // reuse (a config written before, say by `webui passwd`)
	env    []string // more environment
}

func childEnv(dir string) []string { return harness.Env(dir) }

func startServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	d := harness.Dir(dir)
	if err := d.WriteConfig(o.config, "# webui settings\n"); err != nil {
		t.Fatal(err)
	}
	bin := o.bin
	if bin == "" {
		bin = binary
	}
	args := append(append([]string{"serve"}, d.Settings("127.0.0.1:0")...), "--log-stderr", "on")
	cmd := exec.Command(bin, append(args, o.args...)...)
	cmd.Env = append(childEnv(dir), o.env...)
	p, err := harness.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, dir: dir, conf: d.Config(), out: p.Out, done: p.Done(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	t.Cleanup(func() {
		p.Stop(syscall.SIGTERM, 10*time.Second)
		if t.Failed() {
			t.Logf("webui output:\n%s", s.out.String())
		}
	})
	if s.addr, err = harness.WaitListening(d, p, 15*time.Second); err != nil {
		t.Fatalf("%v:\n%s", err, s.out.String())
	}
	return s
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// signInLink is the link `webui url` prints for this server.
func (s *server) signInLink() string {
	s.t.Helper()
	cmd := exec.Command(binary, "url", "--state-dir", filepath.Join(s.dir, "state"), "--addr", s.addr)
	cmd.Env = childEnv(s.dir)
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("webui url: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// token is the owner's access token, for requests the test makes itself.
func (s *server) token() string {
	s.t.Helper()
	tok, err := harness.Token(harness.Dir(s.dir).State())
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func (s *server) logFile() string { return harness.Dir(s.dir).ReadLog() }

type health = harness.Health

func (s *server) health() health {
	s.t.Helper()
	resp, err := s.client.Get(s.url("/health"))
	if err != nil {
		s.t.Fatalf("GET /health: %v\n%s", err, s.out.String())
	}
	defer resp.Body.Close()
	var h health
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &h); err != nil {
		s.t.Fatalf("/health: %v: %q", err, b)
	}
	return h
}
