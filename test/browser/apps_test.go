package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/termux-webui/webui/test/harness"
)

// TestAppsPage drives the Apps page at 360×740 with a real supervised app
// (test/fixtures/testapp) and a static site: their states, restart, stop
// and start, the app's log followed live, a kill -9 in its death history,
// and a broken app file's file:line error after Reload apps.
func TestAppsPage(t *testing.T) {
	needChrome(t)
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "testapp")
	if out, err := harness.Build(repoRoot, app, "./test/fixtures/testapp", ""); err != nil {
		t.Fatalf("build testapp: %v\n%s", err, out)
	}
	site := filepath.Join(dir, "site")
	appsDir := filepath.Join(dir, "apps.d")
	for _, d := range []string{site, appsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(site, "index.html"), "<!doctype html><title>site</title><p>a static site</p>\n")
	write(filepath.Join(appsDir, "echo.conf"), "command = "+app+"\nroute = /echo/\nhealth = /healthz\n")
	write(filepath.Join(appsDir, "site.conf"), "root = "+site+"\nroute = /site/\n")

	s := startServer(t, serverOpts{dir: dir})
	stopAppsAtEnd(t, s)

	b := newBrowser(t)
	b.signIn(s, "/#/apps")
	echo, site1 := `[data-app=echo]`, `[data-app=site]`
	b.waitFor("both apps running", `document.querySelector('`+echo+`[data-state=running]') && document.querySelector('`+site1+`[data-state=running]')`, 20*time.Second)
	if k := b.text(echo + " .app-head .chip"); k != "process" {
		t.Errorf("echo's kind chip %q", k)
	}
	if href := eval[string](b, `document.querySelector('`+site1+` a.btn').getAttribute("href")`); href != "/site/" {
		t.Errorf("the site's Open link %q", href)
	}
	if b.visible(site1 + " button[data-action=restart]") {
		t.Error("a static site offers Restart")
	}
	for _, w := range []string{"PID", "Uptime", "Restarts", "/echo/"} {
		if txt := b.text(echo + " dl"); !strings.Contains(txt, w) {
			t.Errorf("echo's card %q lacks %q", txt, w)
		}
	}
	noOverflow(b, "the app list")
	b.noErrors("the app list")
	b.screenshot("apps-360")

	// No polling while the browser tab is hidden; it resumes when shown.
	eval[bool](b, `(() => { performance.setResourceTimingBufferSize(100000); Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true}); document.dispatchEvent(new Event("visibilitychange")); return true; })()`)
	polls(b, 300*time.Millisecond) // a call under way as the tab hid
	if n := polls(b, 3500*time.Millisecond); n != 0 {
		t.Errorf("%d calls of /api/apps while the tab was hidden", n)
	}
	// Count from before the tab shows: its refresh may finish before a
	// count taken after the event.
	shown := eval[int](b, `performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === "/api/apps").length`)
	eval[bool](b, `(() => { delete document.visibilityState; document.dispatchEvent(new Event("visibilitychange")); return document.visibilityState === "visible"; })()`)
	b.waitFor("a call of /api/apps once the tab was shown again",
		fmt.Sprintf(`performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === "/api/apps").length > %d`, shown), 2500*time.Millisecond)

	// Restart: the buttons wait for the call, and a new process runs.
	pid := eval[string](b, `document.querySelector('`+echo+`').dataset.pid`)
	if busy := eval[bool](b, `(() => { const b = document.querySelector('`+echo+` button[data-action=restart]'); b.click(); return b.disabled && document.querySelector('`+echo+` button[data-action=stop]').disabled; })()`); !busy {
		t.Error("the buttons are not disabled while Restart runs")
	}
	b.waitFor("a new pid after Restart", fmt.Sprintf(`(e => e.dataset.state === "running" && e.dataset.pid !== %q && e.dataset.pid !== "0")(document.querySelector('%s'))`, pid, echo), 20*time.Second)
	b.waitFor("the restart message", textJS(echo+" .msg")+`.startsWith("Restarted")`, 5*time.Second)

	// Stop and Start from the keyboard: the focus stays in the card.
	eval[bool](b, `(() => { document.querySelector('`+echo+` button[data-action=stop]').focus(); return true; })()`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.waitFor("echo stopped", `document.querySelector('`+echo+`[data-state=stopped]')`, 20*time.Second)
	if !eval[bool](b, `document.querySelector('`+echo+` button[data-action=stop]').disabled`) {
		t.Error("Stop is enabled on a stopped app")
	}
	b.waitFor("the focus on Start", `document.activeElement === document.querySelector('`+echo+` button[data-action=start]')`, 5*time.Second)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.waitFor("echo running again", `document.querySelector('`+echo+`[data-state=running]')`, 20*time.Second)
	b.noErrors("restart, stop, start")

	// The app's own view: its log, live.
	b.click(echo + ` a[href="#/apps/echo"].btn`)
	b.waitFor("the log stream", visibleJS("#app-detail")+` && `+textJS("#app-log-state")+` === "live"`, 10*time.Second)
	s.get("/echo/?from-the-browser-test")
	b.waitFor("the app's log line", textJS("#app-log")+`.includes("GET /?from-the-browser-test")`, 10*time.Second)
	noOverflow(b, "the app's view")
	b.screenshot("apps-log")

	// kill -9: the history says SIGKILL, and the app comes back.
	p, err := strconv.Atoi(eval[string](b, `document.querySelector("#app-card [data-app]").dataset.pid`))
	if err != nil || p <= 0 {
		t.Fatalf("no pid on the app's card: %v", err)
	}
	if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.waitFor("SIGKILL in the history", textJS("#app-history")+`.includes("SIGKILL")`, 15*time.Second)
	b.waitFor("the app back after kill -9", `document.querySelector('#app-card [data-state=running]') && document.querySelector("#app-card [data-app]").dataset.pid !== "`+strconv.Itoa(p)+`"`, 20*time.Second)
	// The entries open from the keyboard.
	killed := `[...document.querySelectorAll("#app-history details")].find(d => d.textContent.includes("SIGKILL"))`
	eval[bool](b, `(() => { `+killed+`.querySelector("summary").focus(); return true; })()`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.waitFor("the entry's details", killed+`.open`, 5*time.Second)
	if txt := eval[string](b, killed+`.textContent`); !strings.Contains(txt, "signal SIGKILL") || !strings.Contains(txt, "killed") || !strings.Contains(txt, "kill -9") {
		t.Errorf("the newest death says %q", txt)
	}
	noOverflow(b, "the death history")
	b.noErrors("the app's view")
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#app-history")))
	b.screenshot("apps-history")

	// A broken file: Reload apps names its file:line.
	b.click(`#app-detail a[href="#/apps"]`)
	b.waitFor("the app list again", visibleJS("#apps-list")+` && !`+visibleJS("#app-detail"), 5*time.Second)
	// Leaving the view closes the log stream: its request ends in the access log.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.out.String(), "path=/api/apps/echo/logs "); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the log stream stayed open after leaving the app's view")
		}
	}
	write(filepath.Join(appsDir, "broken.conf"), "command = "+app+"\nbogus = 1\n")
	b.click("#apps-reload")
	b.waitFor("the reload's errors", textJS("#apps-msg")+`.includes("broken.conf:2")`, 15*time.Second)
	b.waitFor("the broken app failed", `document.querySelector('[data-app=broken][data-state=failed] .err')`, 5*time.Second)
	if txt := b.text("[data-app=broken] .err"); !strings.Contains(txt, "broken.conf:2") {
		t.Errorf("the broken app's error %q", txt)
	}
	noOverflow(b, "the reload errors")
	b.noErrors("reload")
	b.screenshot("apps-reload")

	// Another page: the Apps page stops asking.
	b.click(`a[data-page=status]`)
	polls(b, 300*time.Millisecond)
	if n := polls(b, 3500*time.Millisecond); n != 0 {
		t.Errorf("%d calls of /api/apps after leaving the page", n)
	}
}

// TestAppsEmpty: with no app the page says how to add one; a crash-looping
// app added then shows backoff with its next try.
func TestAppsEmpty(t *testing.T) {
	needChrome(t)
	t.Parallel()
	s := startServer(t, serverOpts{})
	stopAppsAtEnd(t, s)
	b := newBrowser(t)
	b.signIn(s, "/#/apps")
	b.waitFor("the empty state", visibleJS("#apps-empty")+` && `+textJS("#apps-conf")+`.endsWith("webui.conf") && `+textJS("#apps-conf")+` !== "webui.conf"`, 10*time.Second)
	if txt := b.text("#apps-empty"); !strings.Contains(txt, "webui app add notes --command") || !strings.Contains(txt, "apps.d/NAME.conf") {
		t.Errorf("the empty state says %q", txt)
	}
	noOverflow(b, "the empty state")
	b.noErrors("the empty state")
	b.screenshot("apps-empty")

	appsDir := filepath.Join(s.dir, "apps.d")
	if err := os.MkdirAll(appsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(appsDir, "loop.conf"), []byte("command = /bin/sh -c 'exit 3'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.click("#apps-reload")
	b.waitFor("the reload", textJS("#apps-msg")+`.includes("every file is valid")`, 10*time.Second)
	b.waitFor("backoff with the next try", `document.querySelector("[data-app=loop][data-state=backoff]") && `+textJS("[data-app=loop] dl")+`.includes("Next try")`, 15*time.Second)
	if txt := b.text("[data-app=loop] dl"); !strings.Contains(txt, "crash") {
		t.Errorf("the crash-looping app's card %q names no crash", txt)
	}
	if b.visible("#apps-empty") {
		t.Error("the empty state shows beside an app")
	}
	noOverflow(b, "backoff")
	b.noErrors("backoff")
}

// stopAppsAtEnd stops webui with SIGINT, as Ctrl-C does, which stops its
// apps too: a bare SIGTERM leaves them running for the next webui.
func stopAppsAtEnd(t *testing.T, s *server) {
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Error("webui did not stop on SIGINT")
		}
	})
}

// polls counts the page's calls of /api/apps during d.
func polls(b *browser, d time.Duration) int {
	b.t.Helper()
	const count = `performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === "/api/apps").length`
	before := eval[int](b, count)
	time.Sleep(d)
	return eval[int](b, count) - before
}

// noOverflow fails when the page scrolls sideways at the 360 px viewport.
func noOverflow(b *browser, where string) {
	b.t.Helper()
	if w := eval[string](b, `(e => e.scrollWidth + " " + e.clientWidth)(document.documentElement)`); func() bool {
		var sw, cw int
		fmt.Sscan(w, &sw, &cw)
		return sw > cw
	}() {
		b.t.Errorf("%s: scrollWidth/clientWidth %s: the page scrolls sideways", where, w)
	}
}
