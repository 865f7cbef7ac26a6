package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

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
	if os.Getenv("WEBUI_DOCS_SCREENSHOTS") == "1" && (name == "status" || name == "updates" || name == "apps-360") {
		docs := filepath.Join(repoRoot, "docs", "screenshots")
		_ = os.MkdirAll(docs, 0o755)
		if err := os.WriteFile(filepath.Join(docs, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}
