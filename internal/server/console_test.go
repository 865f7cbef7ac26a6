package server

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/platform"
)

// loadedDeps resolves a real Config from a config file (and env), as serve
// does.
func loadedDeps(t *testing.T, file string, env map[string]string) Deps {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	if err := os.WriteFile(conf, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "HOME" {
			return dir
		}
		return env[k]
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	resolve, _ := config.Loader{Getenv: getenv, Euid: 1000}.FlagSets(fs)
	if err := fs.Parse([]string{"--config", conf, "--state-dir", filepath.Join(dir, "state"), "--log-dir", filepath.Join(dir, "log"), "--run-dir", filepath.Join(dir, "run")}); err != nil {
		t.Fatal(err)
	}
	cfg, err := resolve()
	if err != nil {
		t.Fatal(err)
	}
	d := testDeps(t)
	cfg.AllowedHosts = d.Config.AllowedHosts
	d.Config = cfg
	return d
}

func settingByKey(t *testing.T, doc map[string]any, key string) map[string]any {
	t.Helper()
	for _, s := range doc["settings"].([]any) {
		if m := s.(map[string]any); m["key"] == key {
			return m
		}
	}
	t.Fatalf("no %s in %v", key, doc)
	return nil
}

// TestSettingsHTTP: the handlers answer what config.Editor decides, with
// the status codes the console reads.
func TestSettingsHTTP(t *testing.T) {
	d := loadedDeps(t, "# mine\nrestart_delay = 15s\n", map[string]string{"WEBUI_UPDATE_CHANNEL": "beta"})
	c := newClient(t, d)
	w := c.do("GET", "/api/settings", nil)
	if doc := decode(t, w); w.Code != 200 || doc["config_file"] != d.Config.ConfigFile || settingByKey(t, doc, "restart_delay")["source"] != "file:2" {
		t.Fatalf("get: %d %v", w.Code, doc)
	}
	w = c.do("PUT", "/api/settings", map[string]any{"restart_delay": "20s", "update_channel": "edge"})
	m := decode(t, w)
	if w.Code != 200 || m["restart_needed"] != true || len(m["saved"].([]any)) != 2 || len(m["overridden"].([]any)) != 1 ||
		!strings.Contains(m["message"].(string), "Restart webui to apply") || settingByKey(t, m["settings"].(map[string]any), "restart_delay")["file"] != "20s" {
		t.Fatalf("put: %d %v", w.Code, m)
	}
	if w := c.do("POST", "/api/settings", map[string]any{"restart_delay": "20s"}); w.Code != 200 || len(decode(t, w)["saved"].([]any)) != 0 {
		t.Errorf("POST of the same value: %d %s", w.Code, w.Body)
	}
	w = c.do("PUT", "/api/settings", map[string]any{"restart_delay": "soon", "state_dir": "/tmp/x"})
	if m := decode(t, w); w.Code != 400 || !strings.Contains(m["error"].(string), "nothing was saved") || len(m["fields"].(map[string]any)) != 2 {
		t.Errorf("invalid: %d %v", w.Code, m)
	}
	for _, body := range []any{"{", map[string]any{}} {
		if w := c.do("PUT", "/api/settings", body); w.Code != 400 {
			t.Errorf("body %v: %d", body, w.Code)
		}
	}
	os.WriteFile(d.Config.ConfigFile, []byte("bogus line\n"), 0o600)
	if w := c.do("PUT", "/api/settings", map[string]any{"restart_delay": "1s"}); w.Code != 409 || !strings.Contains(w.Body.String(), "malformed line") {
		t.Errorf("broken file: %d %s", w.Code, w.Body)
	}
	if w := newClient(t, testDeps(t)).do("PUT", "/api/settings", map[string]any{"restart_delay": "1s"}); w.Code != 409 {
		t.Errorf("no config file: %d %s", w.Code, w.Body)
	}
}

func TestPasswordEndpoint(t *testing.T) {
	d := loadedDeps(t, "# conf\n", nil)
	c := newClient(t, d)
	if w := c.do("POST", "/api/password", map[string]string{"new": "short"}); w.Code != 400 || !strings.Contains(w.Body.String(), "at least 8") {
		t.Fatalf("short: %d %s", w.Code, w.Body)
	}
	if w := c.do("POST", "/api/password", map[string]string{"new": testPassword}); w.Code != 200 {
		t.Fatalf("set: %d %s", w.Code, w.Body)
	}
	// The hash goes to the state dir, 0600; the config file is untouched.
	if b, _ := os.ReadFile(d.Config.ConfigFile); string(b) != "# conf\n" {
		t.Fatalf("config file:\n%s", b)
	}
	pf := paths.State(d.Config.StateDir).Password()
	if b, err := os.ReadFile(pf); err != nil || !strings.HasPrefix(string(b), "pbkdf2-sha256$") {
		t.Fatalf("password file: %q %v", b, err)
	}
	if st, _ := os.Stat(pf); st.Mode().Perm() != 0o600 {
		t.Fatalf("password file mode %v", st.Mode())
	}
	if c.cookies[SessionCookie] == nil {
		t.Fatal("no session for the caller")
	}
	if w := c.do("GET", "/api/settings", nil); w.Code != 200 || decode(t, w)["password_set"] != true {
		t.Fatalf("after set: %d", w.Code)
	}
	// Another browser on this machine needs to log in, and a session from
	// before the change is over.
	other := &client{t: t, h: c.h, d: c.d, remote: "127.0.0.1:1", cookies: map[string]*http.Cookie{}}
	if w := other.do("GET", "/api/settings", nil); w.Code != 401 {
		t.Fatalf("other browser: %d", w.Code)
	}
	other.do("POST", "/api/login", map[string]string{"password": testPassword})
	if w := other.do("GET", "/api/settings", nil); w.Code != 200 {
		t.Fatalf("other browser logged in: %d", w.Code)
	}
	// A change needs the current password.
	w := c.do("POST", "/api/password", map[string]string{"current": "nope", "new": "another password"})
	if m := decode(t, w); w.Code != 403 || m["fields"].(map[string]any)["current"] != "wrong password" {
		t.Fatalf("wrong current: %d %v", w.Code, m)
	}
	if w := c.do("POST", "/api/password", map[string]string{"current": testPassword, "new": "another password"}); w.Code != 200 {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	if !c.d.Auth.Verify("another password") {
		t.Fatal("the new password does not log in")
	}
	if w := other.do("GET", "/api/settings", nil); w.Code != 401 {
		t.Fatalf("a session from before the change: %d", w.Code)
	}
	// The caller keeps a session of its own.
	c.bearer = ""
	if w := c.do("GET", "/api/settings", nil); w.Code != 200 {
		t.Fatalf("the caller after the change: %d", w.Code)
	}
	// Set by the environment: the file would not win.
	d2 := loadedDeps(t, "", map[string]string{"WEBUI_PASSWORD_HASH": testHash()})
	c2 := newClient(t, d2)
	c2.do("POST", "/api/login", map[string]string{"password": testPassword})
	if w := c2.do("POST", "/api/password", map[string]string{"current": testPassword, "new": "whatever123"}); w.Code != 409 || !strings.Contains(w.Body.String(), "WEBUI_PASSWORD_HASH") {
		t.Fatalf("env password: %d %s", w.Code, w.Body)
	}
}

func TestPlatformEndpoint(t *testing.T) {
	d := testDeps(t)
	d.Report = &platform.Report{GOOS: "android", GOARCH: "arm64", Termux: platform.Fact{Value: true}, Android: platform.Fact{Value: true}, AndroidVersion: "13", Supervisor: "none"}
	d.Restart = health.RestartInfo{Strategy: health.StrategyDelayed, Why: "Android kills the restarted process"}
	d.Watchdog = func() ctl.WatchdogStatus { return ctl.WatchdogStatus{Running: true, PID: 7} }
	c := newClient(t, d)
	w := c.do("GET", "/api/platform", nil)
	m := decode(t, w)
	if w.Code != 200 || m["goos"] != "android" || m["android_version"] != "13" {
		t.Fatalf("%d %v", w.Code, m)
	}
	if r := m["restart"].(map[string]any); r["strategy"] != "delayed" || r["why"] == "" {
		t.Errorf("restart %v", r)
	}
	if wd := m["watchdog"].(map[string]any); wd["running"] != true {
		t.Errorf("watchdog %v", wd)
	}
	var ids []string
	for _, h := range m["hints"].([]any) {
		ids = append(ids, h.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "wake_lock,phantom_process_killer" {
		t.Errorf("hints %v", ids)
	}
	for _, c := range []struct {
		r    platform.Report
		want int
	}{
		{platform.Report{}, 0},
		{platform.Report{Android: platform.Fact{Value: true}, AndroidVersion: "11"}, 0},
		{platform.Report{Android: platform.Fact{Value: true}, AndroidVersion: "12L"}, 1},
		{platform.Report{Android: platform.Fact{Value: true}, AndroidVersion: "14"}, 1},
	} {
		if got := len(Hints(c.r)); got != c.want {
			t.Errorf("Hints(%+v) = %d, want %d", c.r, got, c.want)
		}
	}
}

// fakeLog is a FollowLog over a slice, that then follows a channel.
func fakeLog(backlog []string, more <-chan string) func(context.Context, int, bool, func(string)) error {
	return func(ctx context.Context, n int, follow bool, emit func(string)) error {
		start := max(0, len(backlog)-n)
		for _, l := range backlog[start:] {
			emit(l)
		}
		if !follow {
			return nil
		}
		for {
			select {
			case <-ctx.Done():
				return nil
			case l := <-more:
				emit(l)
			}
		}
	}
}

func TestLogsEndpoint(t *testing.T) {
	lines := []string{
		`{"level":"debug","msg":"d1","time":"2025-01-01T00:00:00Z"}`,
		`{"level":"info","msg":"i1","time":"2025-01-01T00:00:01Z"}`,
		`{"level":"warning","msg":"w1","time":"2025-01-01T00:00:02Z"}`,
		`not json`,
		`{"level":"error","msg":"e1","time":"2025-01-01T00:00:03Z"}`,
	}
	d := testDeps(t)
	d.FollowLog = fakeLog(lines, nil)
	c := newClient(t, d)
	m := decode(t, c.do("GET", "/api/logs?level=warn&lines=10", nil))
	got := m["lines"].([]any)
	if len(got) != 3 || !strings.Contains(got[0].(string), "w1") || got[1] != "not json" || !strings.Contains(got[2].(string), "e1") {
		t.Fatalf("warn lines %v", got)
	}
	if m := decode(t, c.do("GET", "/api/logs?lines=2", nil)); len(m["lines"].([]any)) != 2 {
		t.Fatalf("last 2: %v", m)
	}
	for _, q := range []string{"level=loud", "lines=x"} {
		if w := c.do("GET", "/api/logs?"+q, nil); w.Code != 400 {
			t.Errorf("%s: %d", q, w.Code)
		}
	}
	d.FollowLog = nil
	if w := newClient(t, d).do("GET", "/api/logs", nil); w.Code != 404 {
		t.Errorf("no log: %d", w.Code)
	}
}

func TestLogsStream(t *testing.T) {
	more := make(chan string)
	d := testDeps(t)
	d.FollowLog = fakeLog([]string{`{"level":"info","msg":"old"}`, `{"level":"debug","msg":"hidden"}`}, more)
	d.Inflight = NewInflight()
	srv := newTestServer(t, d)
	resp, err := srv.Client().Get(srv.URL + "/api/logs?stream=1&level=info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	rd := newLineReader(resp.Body)
	rd.until(t, `data: {"level":"info","msg":"old"}`)
	more <- `{"level":"debug","msg":"filtered"}`
	more <- `{"level":"error","msg":"new"}`
	if got := rd.until(t, `data: {"level":"error","msg":"new"}`); strings.Contains(got, "filtered") || strings.Contains(got, "hidden") {
		t.Fatalf("level filter let through:\n%s", got)
	}
	streaming := false
	for _, r := range d.Inflight.List() {
		streaming = streaming || (r.Path == "/api/logs" && r.Stream)
	}
	if !streaming {
		t.Fatalf("the log stream is not marked as a stream: %+v", d.Inflight.List())
	}
	// A drain ends the stream, so a restart does not wait for it.
	d.Inflight.EndStreams()
	rd.closed(t)
}

// newTestServer serves d; its Client sends the owner's token.
func newTestServer(t *testing.T, d Deps) *httptest.Server {
	if d.Auth == nil {
		a, err := OpenAuth(d.Config)
		if err != nil {
			t.Fatal(err)
		}
		d.Auth = a
	}
	srv := httptest.NewServer(NewServer(d))
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.Transport = bearerTransport{base: c.Transport, token: d.Auth.Store().Token()}
	return srv
}

type bearerTransport struct {
	base  http.RoundTripper
	token string
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// lineReader reads a response body line by line in the background.
type lineReader struct{ lines chan string }

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 100)}
	go func() {
		defer close(lr.lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
	}()
	return lr
}

// until returns the lines read up to and including want.
func (lr *lineReader) until(t *testing.T, want string) string {
	t.Helper()
	var b strings.Builder
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				t.Fatalf("stream ended before %q:\n%s", want, b.String())
			}
			b.WriteString(l + "\n")
			if l == want {
				return b.String()
			}
		case <-timeout:
			t.Fatalf("no %q within 5s:\n%s", want, b.String())
		}
	}
}

// closed waits for the end of the body.
func (lr *lineReader) closed(t *testing.T) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lr.lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

func TestDiagBundle(t *testing.T) {
	d := loadedDeps(t, "# conf\npassword_hash = "+testHash()+"\nrestart_delay = 20s\n", nil)
	cfg := d.Config
	lifetimes := filepath.Join(cfg.StateDir, "lifetimes")
	os.MkdirAll(lifetimes, 0o700)
	os.WriteFile(filepath.Join(lifetimes, "20250101T000000Z-42.jsonl"), []byte(`{"event":"start"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(lifetimes, "20250101T000000Z-42.crash"), []byte("panic: boom\n"), 0o600)
	os.MkdirAll(cfg.LogDir, 0o700)
	big := strings.Repeat(`{"level":"info","msg":"filler"}`+"\n", bundleLogTail/30+1000)
	os.WriteFile(filepath.Join(cfg.LogDir, "webui.log"), []byte(big+`{"msg":"last line"}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(cfg.LogDir, "watchdog.log"), []byte("watchdog says hi\n"), 0o600)
	d.Report = &platform.Report{GOOS: "linux", GOARCH: "amd64", Supervisor: "none"}
	d.Lifetimes = fakeLifetimes{{ID: "20250101T000000Z-42", Verdict: "crash"}}
	c := newClient(t, d)
	c.do("POST", "/api/login", map[string]string{"password": testPassword})
	w := c.do("GET", "/api/diag/bundle", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/gzip" ||
		!strings.HasPrefix(w.Header().Get("Content-Disposition"), `attachment; filename="webui-diag-`) {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	gz, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name[strings.Index(h.Name, "/")+1:]] = string(b)
	}
	for _, name := range []string{"README.txt", "platform.json", "diagnose.json", "lifetimes/20250101T000000Z-42.jsonl",
		"lifetimes/20250101T000000Z-42.crash", "logs/webui.log", "logs/watchdog.log", "config/webui.conf", "config/settings.txt"} {
		if _, ok := files[name]; !ok {
			t.Errorf("bundle lacks %s (has %v)", name, keys(files))
		}
	}
	if f := files["config/webui.conf"]; strings.Contains(f, "pbkdf2") || !strings.Contains(f, "password_hash = (redacted)\n") || !strings.Contains(f, "restart_delay = 20s") {
		t.Errorf("config not redacted:\n%s", f)
	}
	if f := files["config/settings.txt"]; strings.Contains(f, "pbkdf2") || !strings.Contains(f, "restart_delay = 20s  [file:3]") {
		t.Errorf("settings.txt:\n%s", f)
	}
	if l := files["logs/webui.log"]; len(l) > bundleLogTail || !strings.HasSuffix(l, `{"msg":"last line"}`+"\n") || !strings.HasPrefix(l, `{"level"`) {
		t.Errorf("log tail: %d bytes, starts %q", len(l), l[:min(40, len(l))])
	}
	if !strings.Contains(files["platform.json"], `"goos": "linux"`) || !strings.Contains(files["diagnose.json"], `"verdict": "crash"`) {
		t.Errorf("platform/diagnose:\n%s\n%s", files["platform.json"], files["diagnose.json"])
	}
}

// fakeLifetimes are lifetimes as diag would judge them.
type fakeLifetimes []diag.Lifetime

func (f fakeLifetimes) List() ([]diag.Lifetime, error) { return f, nil }
func (f fakeLifetimes) Find(id string) (*diag.Lifetime, error) {
	for i := range f {
		if f[i].ID == id {
			return &f[i], nil
		}
	}
	return nil, errors.New("no lifetime " + id)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWebFiles(t *testing.T) {
	c := newClient(t, testDeps(t))
	w := c.do("GET", "/", nil)
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'self'") ||
		!strings.Contains(w.Body.String(), `rel="manifest"`) || w.Header().Get("ETag") == "" {
		t.Fatalf("index: %d %v", w.Code, w.Header())
	}
	m := c.do("GET", "/manifest.webmanifest", nil)
	if m.Code != 200 || m.Header().Get("Content-Type") != "application/manifest+json" || !strings.Contains(m.Body.String(), `"start_url": "/"`) {
		t.Fatalf("manifest: %d %v", m.Code, m.Header())
	}
	for _, p := range []string{"/assets/icon-192.png", "/assets/icon-512.png", "/assets/icon.svg"} {
		if w := c.do("GET", p, nil); w.Code != 200 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
	if w := c.do("GET", "/assets/nope.js", nil); w.Code != 404 {
		t.Errorf("missing asset: %d", w.Code)
	}
	if w := c.do("GET", "/assets/../web.go", nil); strings.Contains(w.Body.String(), "package web") {
		t.Errorf("traversal served the source: %d", w.Code)
	}
}
