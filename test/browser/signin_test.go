package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSignInWalk is the owner's way in, at 360 px: the token link on first
// use (and the token gone from the address bar), a restart that keeps the
// session, a logout, and a password login from another device: a fresh
// browser without the token.
func TestSignInWalk(t *testing.T) {
	needChrome(t)
	t.Parallel()
	const password = "the owner's password"
	dir := t.TempDir()
	s := startServer(t, serverOpts{dir: dir})

	// A browser without a session sees the login page, which says how to
	// get the link; there is no password to type yet.
	b := newBrowser(t)
	b.do(chromedp.Navigate(s.url("/")))
	b.waitFor("the login page", visibleJS("#login-form")+` && `+textJS("#login-how")+`.includes("webui url")`, 15*time.Second)
	if b.visible("#tabs") || b.visible("#login-pw") {
		t.Error("pages or a password field without a session or a password")
	}
	b.noErrors("login page, no password")
	b.screenshot("signin-no-password")

	// 1. The link: in, and the token leaves the address bar and history.
	link := s.signInLink()
	tok := link[strings.Index(link, "token=")+6:]
	b.signIn(s, "/")
	if u := eval[string](b, `location.href`); strings.Contains(u, tok) || u != s.url("/") {
		t.Errorf("address bar after sign-in: %q", u)
	}
	if n := eval[int](b, `history.length`); n > 2 {
		t.Logf("history length %d", n)
	}
	b.waitFor("the status page", textJS("#st-state")+` === "Running"`, 15*time.Second)
	b.noErrors("signed in with the link")

	// A password for the other device, set from the console.
	b.click(`a[data-page=settings]`)
	b.waitFor("the password form", textJS("#pw-save")+` === "Set password"`, 15*time.Second)
	b.setValue("#pw-new", password)
	b.setValue("#pw-repeat", password)
	b.click("#pw-save")
	b.waitFor("the password saved", textJS("#pw-msg")+`.includes("Password saved")`, 20*time.Second)

	// 2. A restart (a new process on the same port) keeps the session.
	addr := s.addr
	s.stop()
	os.Remove(filepath.Join(dir, "log", "webui.log")) // wait for the new process's "listening"
	s = startServer(t, serverOpts{dir: dir, args: []string{"--addr", addr}})
	b.do(chromedp.Reload())
	b.waitFor("the console after the restart", `document.querySelectorAll("#set-fields .field").length > 0 && `+visibleJS("#tabs")+` || `+visibleJS("#login-form"), 15*time.Second)
	if b.visible("#login-form") {
		t.Fatal("the restart signed the browser out")
	}
	b.noErrors("after the restart")

	// 3. Logout: back to the login page, and a reload stays there.
	b.click(`a[data-page=settings]`)
	b.waitFor("the session card", visibleJS("#logout"), 15*time.Second)
	b.click("#logout")
	b.waitFor("the login page after logout", visibleJS("#login-form")+` && `+visibleJS("#login-pw"), 10*time.Second)
	b.do(chromedp.Reload())
	b.waitFor("the login page after a reload", visibleJS("#login-form"), 10*time.Second)
	b.noErrors("logged out")

	// 4. Another device: a fresh browser without the token logs in with
	// the password.
	other := newBrowser(t)
	other.do(chromedp.Navigate(s.url("/#/settings")))
	other.waitFor("the login page", visibleJS("#login-form")+` && `+visibleJS("#login-pw")+` && `+textJS("#login-how")+`.includes("webui url")`, 15*time.Second)
	other.screenshot("signin")
	other.setValue("#login-pw", "not it")
	other.click(`#login-form button[type=submit]`)
	other.waitFor("the wrong-password error", textJS("#login-err")+`.includes("Wrong password")`, 10*time.Second)
	other.login(password)
	other.waitFor("the settings page", `document.querySelectorAll("#set-fields .field").length > 0`, 10*time.Second)
	if w := eval[int](other, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the page is %d px wide at 360 px", w)
	}
	other.noErrors("password login")

	// A stale link says so.
	fresh := newBrowser(t)
	fresh.do(chromedp.Navigate(s.url("/login?token=wut_not-the-token")))
	fresh.waitFor("the bad-link note", visibleJS("#login-link-bad"), 10*time.Second)
	if u := eval[string](fresh, `location.href`); u != s.url("/") {
		t.Errorf("address bar after a bad link: %q", u)
	}
}
