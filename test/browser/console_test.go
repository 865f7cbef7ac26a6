package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestEveryPage loads each page at 360×740 and checks what it shows, with
// no JavaScript error and no error banner on the way.
func TestEveryPage(t *testing.T) {
	needChrome(t)
	t.Parallel()
	rel := newRelease(t, "1.1.0", releaseNotes)
	// A phone: Termux on Android 14, so the status page shows its hints.
	fsRoot := t.TempDir()
	os.MkdirAll(filepath.Join(fsRoot, "system"), 0o755)
	os.WriteFile(filepath.Join(fsRoot, "system", "build.prop"), []byte("ro.build.version.release=14\n"), 0o644)
	s := startServer(t, serverOpts{config: rel.config(), env: []string{"TERMUX_VERSION=0.118.1", "WEBUI_TEST_FS_ROOT=" + fsRoot}})
	b := newBrowser(t)
	b.signIn(s, "/")

	// Status
	b.waitFor("the status page", textJS("#st-state")+` === "Running" && document.querySelector("#st-platform dd")`, 15*time.Second)
	if c := b.text("#conn"); !strings.Contains(c, "v"+baseVersion) {
		t.Errorf("header chip %q", c)
	}
	if st := b.text("#st-strategy"); st == "" {
		t.Error("no restart strategy shown")
	}
	if n := eval[int](b, `document.querySelectorAll("#st-checks li").length`); n < 2 {
		t.Errorf("%d health checks shown", n)
	}
	if w := b.text("#st-watchdog"); !strings.Contains(w, "Running") {
		t.Errorf("watchdog card %q", w)
	}
	for _, hint := range []string{"wake_lock", "phantom_process_killer"} {
		if !b.visible("[data-hint=" + hint + "]") {
			t.Errorf("no %s hint on Termux/Android 14", hint)
		}
	}
	if p := b.text("#st-platform"); !strings.Contains(p, "yes, version 14") {
		t.Errorf("platform card %q", p)
	}
	b.noErrors("status")
	b.screenshot("status")

	// Updates: the release server offers 1.1.0 with notes.
	b.click(`a[data-page=updates]`)
	b.waitFor("the update check", textJS("#up-msg")+`.includes("1.1.0 is available")`, 15*time.Second)
	if notes := b.text("#up-notes"); !strings.Contains(notes, "Faster restarts") {
		t.Errorf("release notes %q", notes)
	}
	if href := eval[string](b, `document.querySelector("#up-notes a").getAttribute("rel")`); href != "noopener noreferrer" {
		t.Errorf("link rel %q", href)
	}
	b.noErrors("updates")
	b.screenshot("updates")

	// Diagnostics: this lifetime at least, with details on demand.
	b.click(`a[data-page=diag]`)
	b.waitFor("the lifetimes", `document.querySelectorAll("#diag-list details").length >= 1`, 10*time.Second)
	if v := b.text("#diag-list .chip"); v != "running" {
		t.Errorf("newest verdict %q", v)
	}
	b.click("#diag-list summary")
	b.waitFor("lifetime details", `document.querySelector("#diag-list .body dl")`, 10*time.Second)
	if href := eval[string](b, `document.querySelector("#diag-bundle").getAttribute("href")`); href != "/api/diag/bundle" {
		t.Errorf("bundle link %q", href)
	}
	b.noErrors("diagnostics")
	b.screenshot("diagnostics")

	// Logs: a live tail with pause and a level filter.
	b.click(`a[data-page=logs]`)
	b.waitFor("the log tail", `document.querySelectorAll("#log-view .logline").length > 0 && `+textJS("#log-state")+` === "live"`, 10*time.Second)
	s.get("/_test/log?n=2")
	b.waitFor("new log lines", `[...document.querySelectorAll("#log-view .logline")].some(e => e.textContent.includes("test log line"))`, 10*time.Second)
	b.click("#log-pause")
	before := eval[int](b, `document.querySelectorAll("#log-view .logline").length`)
	s.get("/_test/log?n=3")
	b.waitFor("lines held while paused", textJS("#log-pause")+`.startsWith("Resume (")`, 10*time.Second)
	if n := eval[int](b, `document.querySelectorAll("#log-view .logline").length`); n != before {
		t.Errorf("paused view grew from %d to %d lines", before, n)
	}
	b.click("#log-pause")
	b.waitFor("held lines shown", fmt.Sprintf(`document.querySelectorAll("#log-view .logline").length > %d`, before), 5*time.Second)
	b.screenshot("logs")
	b.do(chromedp.SetValue(chromedp.CSS("#log-level"), "error"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#log-level").dispatchEvent(new Event("change"))`))
	b.waitFor("the error-level view", textJS("#log-state")+` === "live" && !document.querySelector("#log-view .lv.info")`, 10*time.Second)
	b.noErrors("logs")

	// Settings
	b.click(`a[data-page=settings]`)
	b.waitFor("the settings form", `document.querySelectorAll("#set-fields .field").length === 6`, 10*time.Second)
	if v := eval[string](b, `document.querySelector("#f-restart_delay").value`); v != "15s" {
		t.Errorf("restart_delay shows %q", v)
	}
	if src := b.text(`[data-key=update_url] .src, [data-key=restart_delay] .src`); !strings.Contains(src, "Default") {
		t.Errorf("restart_delay source %q", src)
	}
	b.noErrors("settings")
	b.screenshot("settings")

	// The theme toggle is remembered.
	was := eval[string](b, `getComputedStyle(document.body).backgroundColor`)
	b.click("#theme")
	b.do(chromedp.Navigate(s.url("/#/status")))
	b.waitFor("the status page again", textJS("#st-state")+` === "Running"`, 10*time.Second)
	if now := eval[string](b, `getComputedStyle(document.body).backgroundColor`); now == was {
		t.Errorf("the theme toggle did not change the background (%s)", now)
	}
	if th := eval[string](b, `localStorage.getItem("webui-theme") || ""`); th != "dark" && th != "light" {
		t.Errorf("theme not remembered: %q", th)
	}
	b.noErrors("theme")
	b.screenshot("status-" + eval[string](b, `document.documentElement.dataset.theme`))

	// The server goes away: the page says so in words.
	s.stop()
	b.waitFor("the unreachable banner", visibleJS("#offline")+` && `+textJS("#offline")+`.includes("unreachable")`, 15*time.Second)
	if c := b.text("#conn"); c != "unreachable" {
		t.Errorf("header chip %q with the server down", c)
	}
	b.screenshot("unreachable")
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("JavaScript errors with the server down: %v", errs)
	}
}

// TestLogin sets a password with `webui passwd`, then logs in: the form
// shows, a wrong password is refused in words, the right one gets in.
func TestLogin(t *testing.T) {
	needChrome(t)
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("# settings\n"), 0o600)
	cmd := exec.Command(binary, "passwd", "--config", conf, "--state-dir", filepath.Join(dir, "state"))
	cmd.Env = childEnv(dir)
	cmd.Stdin = strings.NewReader("correct horse battery\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("webui passwd: %v\n%s", err, out)
	}
	s := startServer(t, serverOpts{dir: dir})
	b := newBrowser(t)
	b.do(chromedp.Navigate(s.url("/#/settings")))
	b.waitFor("the login form", visibleJS("#login-form"), 10*time.Second)
	if b.visible("#tabs") || b.visible("#page-status") {
		t.Error("pages are shown before login")
	}
	b.noErrors("login form")
	b.screenshot("login")

	b.setValue("#login-pw", "not the password")
	b.click(`#login-form button[type=submit]`)
	b.waitFor("the wrong-password error", textJS("#login-err")+`.includes("Wrong password")`, 10*time.Second)
	b.screenshot("login-wrong")

	b.setValue("#login-pw", "correct horse battery")
	b.click(`#login-form button[type=submit]`)
	b.waitFor("the settings page", `document.querySelectorAll("#set-fields .field").length === 6`, 10*time.Second)
	if !b.visible("#tabs") || !b.visible("#session-card") {
		t.Error("no tabs or session card after login")
	}
	cookies := eval[string](b, `document.cookie`)
	if strings.Contains(cookies, "webui_session") {
		t.Error("the session cookie is readable from JavaScript")
	}
	b.noErrors("after login")

	b.click("#logout")
	b.waitFor("the login form after logout", visibleJS("#login-form"), 10*time.Second)
	b.noErrors("logout")
}

// TestSettingChange saves restart_delay from the settings page: a bad
// value is refused on its field, a good one lands in the file with a
// "restart needed" note, and the restart button brings the console back.
func TestSettingChange(t *testing.T) {
	needChrome(t)
	t.Parallel()
	s := startServer(t, serverOpts{config: "# my settings\nlog_level = info  # keep\n"})
	before, _ := os.ReadFile(s.conf)
	b := newBrowser(t)
	b.signIn(s, "/#/settings")
	b.waitFor("the settings form", `document.querySelector("#f-restart_delay")`, 10*time.Second)

	b.setValue("#f-restart_delay", "soon")
	b.click("#set-save")
	b.waitFor("the field error", textJS("#err-restart_delay")+`.includes("bad value")`, 10*time.Second)
	if m := b.text("#set-msg"); !strings.Contains(m, "Not saved") {
		t.Errorf("form message %q", m)
	}
	if after, _ := os.ReadFile(s.conf); string(after) != string(before) {
		t.Errorf("a refused value changed the file:\n%s", after)
	}
	b.screenshot("settings-error")

	b.setValue("#f-restart_delay", "20s")
	b.click("#set-save")
	b.waitFor("the saved message", textJS("#set-msg")+`.includes("Restart webui to apply")`, 10*time.Second)
	after, _ := os.ReadFile(s.conf)
	if !strings.Contains(string(after), "restart_delay = 20s\n") || !strings.Contains(string(after), "log_level = info  # keep\n") {
		t.Fatalf("config file after save:\n%s", after)
	}
	if src := b.text("[data-key=restart_delay] .src"); !strings.Contains(src, "Saved as 20s; running with 15s until webui restarts") {
		t.Errorf("field note %q", src)
	}
	if !b.visible("#set-restart") {
		t.Fatal("no restart button after a change that needs one")
	}
	b.noErrors("settings saved")
	b.screenshot("settings-saved")

	old := s.health()
	b.click("#set-restart")
	b.waitFor("the restarted server", textJS("#set-msg")+`.includes("Restarted")`, 30*time.Second)
	if h := s.health(); !h.StartedAt.After(old.StartedAt) {
		t.Errorf("not restarted: %+v then %+v", old, h)
	}
	b.click(`a[data-page=status]`)
	b.click(`a[data-page=settings]`)
	b.waitFor("restart_delay in effect", `document.querySelector("[data-key=restart_delay] .src") && `+textJS("[data-key=restart_delay] .src")+`.includes("config file, line")`, 10*time.Second)
	b.noErrors("after restart")
}

// TestOtherOriginCannotUseAPI opens a page on another origin in the same
// browser that tries to restart webui and change a setting, by fetch and
// by form. All of it must be refused.
func TestOtherOriginCannotUseAPI(t *testing.T) {
	needChrome(t)
	t.Parallel()
	s := startServer(t, serverOpts{})
	confBefore, _ := os.ReadFile(s.conf)
	h0 := s.health()
	target := "http://" + s.addr
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, evilPage, target)
	}))
	defer evil.Close()

	b := newBrowser(t)
	// The console is open in the same browser, as on a phone.
	b.signIn(s, "/")
	b.waitFor("the console", textJS("#st-state")+` === "Running"`, 10*time.Second)
	b.do(chromedp.Navigate(evil.URL))
	b.waitFor("the attack page to finish", textJS("#out")+`.includes("done")`, 20*time.Second)
	out := b.text("#out")
	t.Logf("attack page:\n%s", out)
	for _, want := range []string{"csrf: blocked", "restart-cors: blocked", "settings-cors: blocked"} {
		if !strings.Contains(out, want) {
			t.Errorf("attack page: want %q", want)
		}
	}
	if strings.Contains(out, "token") {
		t.Error("the other origin read the CSRF token")
	}
	time.Sleep(500 * time.Millisecond)
	if h := s.health(); h.PID != h0.PID || !h.StartedAt.Equal(h0.StartedAt) {
		t.Errorf("the server restarted: %+v -> %+v", h0, h)
	}
	if after, _ := os.ReadFile(s.conf); string(after) != string(confBefore) {
		t.Errorf("the config changed:\n%s", after)
	}
	// What reached the server was refused: 401 (the SameSite=Strict
	// session cookie does not go along cross-site) or 403 (CSRF, Origin).
	re := regexp.MustCompile(`"method":"(POST|PUT)"[^\n]*"path":"(/api/[a-z]+)"[^\n]*"status":(\d+)`)
	logText := s.logFile()
	var seen []string
	for _, m := range re.FindAllStringSubmatch(logText, -1) {
		seen = append(seen, m[1]+" "+m[2]+" "+m[3])
		if m[3] != "403" && m[3] != "401" {
			t.Errorf("%s %s answered %s", m[1], m[2], m[3])
		}
	}
	if len(seen) < 2 {
		t.Errorf("expected the no-cors fetch and the forms to reach the server and be refused; log has %v", seen)
	}
	t.Logf("refused at the server: %v", seen)
	if strings.Contains(logText, `"msg":"restarting"`) {
		t.Error("a restart began")
	}
}

const evilPage = `<!doctype html><meta charset="utf-8"><title>totally harmless</title>
<pre id="out"></pre>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="f1" method="POST" action="%[1]s/api/restart" target="sink1"><input name="x" value="1"></form>
<form id="f2" method="POST" action="%[1]s/api/settings" target="sink2" enctype="text/plain"><input name='{"restart_delay":"1s","x":"' value='"}'></form>
<script>
const T = %[1]q, out = [];
async function attempt(name, p) {
  try { const r = await p; out.push(name + ": status " + r.status + " type " + r.type + " " + (r.type === "opaque" ? "" : await r.text())); }
  catch (e) { out.push(name + ": blocked (" + e.message + ")"); }
}
(async () => {
  await attempt("csrf", fetch(T + "/api/csrf", {credentials: "include"}));
  await attempt("restart-nocors", fetch(T + "/api/restart", {method: "POST", mode: "no-cors", credentials: "include", body: "{}"}));
  await attempt("restart-cors", fetch(T + "/api/restart", {method: "POST", credentials: "include", headers: {"X-CSRF-Token": "guess", "Content-Type": "application/json"}, body: "{}"}));
  await attempt("settings-cors", fetch(T + "/api/settings", {method: "PUT", credentials: "include", headers: {"Content-Type": "application/json"}, body: '{"restart_delay":"1s"}'}));
  document.getElementById("f1").submit();
  document.getElementById("f2").submit();
  setTimeout(() => { out.push("done"); document.getElementById("out").textContent = out.join("\n"); }, 1500);
})();
</script>`

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.t.Fatal("webui did not stop on SIGTERM")
	}
}

func (s *server) get(path string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+s.token())
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
}
