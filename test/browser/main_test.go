// Package browser drives the phone console in headless Chromium at 360×740
// with mobile emulation: every page loads without errors, login, an update
// end to end, a settings change, and another origin's failed attempts to
// use the API. Screenshots go to test/artifacts/.
//
// Without Chromium the tests skip and say why, except with CI=true, where
// they fail: CI must install it (apt-get install chromium).
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/termux-webui/webui/internal/paths"
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
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
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
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "webuitest",
		"-ldflags", "-X github.com/termux-webui/webui/internal/version.Version="+v, "-o", out, "./cmd/webui")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
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
	out    *syncBuffer
	done   chan struct{}
	client *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type serverOpts struct {
	bin    string   // default: the base binary
	config string   // webui.conf content
	args   []string // more serve flags
	dir    string   // reuse (a config written before, say by `webui passwd`)
	env    []string // more environment
}

func childEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEBUI_") || strings.HasPrefix(kv, "TERMUX_") || strings.HasPrefix(kv, "PREFIX=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir, "XDG_CONFIG_HOME="+dir+"/config", "XDG_STATE_HOME="+dir+"/xdgstate")
}

func startServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	conf := filepath.Join(dir, "webui.conf")
	if o.config != "" {
		if err := os.WriteFile(conf, []byte(o.config), 0o600); err != nil {
			t.Fatal(err)
		}
	} else if _, err := os.Stat(conf); err != nil {
		_ = os.WriteFile(conf, []byte("# webui settings\n"), 0o600)
	}
	bin := o.bin
	if bin == "" {
		bin = binary
	}
	args := append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--state-dir", filepath.Join(dir, "state"),
		"--log-dir", filepath.Join(dir, "log"),
		"--run-dir", filepath.Join(dir, "run"),
		"--config", conf,
		"--log-stderr", "on",
	}, o.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(childEnv(dir), o.env...)
	s := &server{t: t, cmd: cmd, dir: dir, conf: conf, out: &syncBuffer{}, done: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-s.done
			}
		}
		if t.Failed() {
			t.Logf("webui output:\n%s", s.out.String())
		}
	})
	s.addr = s.waitListening(15 * time.Second)
	return s
}

var listenRe = regexp.MustCompile(`"addr":"([0-9.:\[\]a-f]+)"[^\n]*listening`)

func (s *server) waitListening(timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := listenRe.FindAllStringSubmatch(s.logFile(), -1); len(m) > 0 {
			return m[len(m)-1][1]
		}
		select {
		case <-s.done:
			s.t.Fatalf("webui exited before listening:\n%s", s.out.String())
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("webui did not listen within %s:\n%s", timeout, s.out.String())
	return ""
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
	b, err := os.ReadFile(paths.State(filepath.Join(s.dir, "state")).Token())
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// signIn opens the sign-in link, as the owner does with what `webui url`
// prints, and then path ("/#/settings" switches the page).
func (b *browser) signIn(s *server, path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(s.signInLink()))
	b.waitFor("the console after the sign-in link", `location.pathname === "/" && location.search === "" && `+visibleJS("#tabs"), 15*time.Second)
	switch {
	case strings.HasPrefix(path, "/#"):
		eval[bool](b, fmt.Sprintf(`(() => { location.hash = %q; return true; })()`, path[1:]))
	case path != "/":
		b.do(chromedp.Navigate(s.url(path)))
	}
}

func (s *server) logFile() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log", "webui.log"))
	return string(b)
}

type health struct {
	Status    string    `json:"status"`
	Version   string    `json:"version"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
}

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

// ---- the browser ----------------------------------------------------------

type browser struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	errs []string // JavaScript exceptions and console errors
	logs []string // browser log entries (network errors, CSP violations)
}

// newBrowser starts a fresh headless Chromium with a phone's viewport.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	needChrome(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromePath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(360, 740),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	return b
}

func (b *browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil && e.ExceptionDetails.Exception.Description != "" {
			msg += ": " + e.ExceptionDetails.Exception.Description
		}
		b.errs = append(b.errs, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.errs = append(b.errs, "console.error: "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			b.logs = append(b.logs, string(e.Entry.Source)+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
}

// errors returns the JavaScript exceptions and console errors so far.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// logEntries returns the browser's error log entries so far.
func (b *browser) logEntries() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.logs...)
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (page text: %q)", err, b.pageText())
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// pageText is the visible text of the page, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// waitFor waits until the JavaScript expression is truthy.
func (b *browser) waitFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, b.pageText())
	}
}

// text is the textContent of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// visible reports whether an element is shown.
func (b *browser) visible(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0 && !e.closest("[hidden]"); })()`, sel))
}

func visibleJS(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0 && !e.closest("[hidden]"); })()`, sel)
}

func textJS(sel string) string {
	return fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || "")`, sel)
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// setValue types text into an input, replacing what it held.
func (b *browser) setValue(sel, v string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ""; e.focus(); return true; })()`, sel))
	b.do(chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible))
}

// noErrors fails on any JavaScript exception, console error or error
// banner.
func (b *browser) noErrors(where string) {
	b.t.Helper()
	if errs := b.errors(); len(errs) > 0 {
		b.t.Errorf("%s: JavaScript errors:\n%s", where, strings.Join(errs, "\n"))
	}
	if b.visible("#banner") {
		b.t.Errorf("%s: error banner: %q", where, b.text("#banner-text"))
	}
	for _, l := range b.logEntries() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			b.t.Errorf("%s: CSP violation: %s", where, l)
		}
	}
}

// screenshot saves the viewport as test/artifacts/<name>.png. With
// WEBUI_DOCS_SCREENSHOTS=1, the ones the README shows are copied to
// docs/screenshots/ as well.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	time.Sleep(150 * time.Millisecond) // let transitions and fonts settle
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(repoRoot, "test", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if os.Getenv("WEBUI_DOCS_SCREENSHOTS") == "1" && (name == "status" || name == "updates") {
		docs := filepath.Join(repoRoot, "docs", "screenshots")
		_ = os.MkdirAll(docs, 0o755)
		if err := os.WriteFile(filepath.Join(docs, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}
