package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// TestNewUserJourney is a new user's first session, all in the browser:
// open the link `webui url` prints, set a password on the Settings page,
// install an update from the Updates page (the session outlives the
// restart), and read on the Diagnostics page how the old version's
// lifetime ended.
func TestNewUserJourney(t *testing.T) {
	needChrome(t)
	t.Parallel()
	const password = "a new user's password"
	rel := newRelease(t, "1.1.0", releaseNotes, true)
	// The update replaces the running binary: give this server its own.
	bin := filepath.Join(t.TempDir(), "webui")
	copyFile(t, binary, bin)
	s := startServer(t, serverOpts{bin: bin, config: rel.config()})
	old := s.health()
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }

	// 1. Open the console with the sign-in link: straight in.
	b := newBrowser(t)
	b.signIn(s, "/")
	b.waitFor("the status page", textJS("#st-state")+` === "Running"`, 20*time.Second)
	if b.visible("#login-form") || !b.visible("#tabs") {
		t.Error("the sign-in link did not let the new user in")
	}
	b.noErrors("first visit")
	step("status page shown")

	// 2. Settings: set a password with the console's form.
	b.click(`a[data-page=settings]`)
	b.waitFor("the password form", textJS("#pw-save")+` === "Set password" && `+textJS("#pw-status")+`.includes("No password is set")`, 15*time.Second)
	if b.visible("#pw-current-row") {
		t.Error("the form asks for a current password when none is set")
	}
	if !b.visible("#session-card") {
		t.Error("no session card (Log out) for a session from the link")
	}
	b.setValue("#pw-new", password)
	b.setValue("#pw-repeat", password)
	b.click("#pw-save")
	b.waitFor("the password saved", visibleJS("#pw-msg")+` && `+textJS("#pw-msg")+`.includes("Password saved")`, 20*time.Second)
	if conf, _ := os.ReadFile(s.conf); strings.Contains(string(conf), "password_hash") {
		t.Errorf("the password hash went to the config file:\n%s", conf)
	}
	if st, err := os.Stat(paths.State(filepath.Join(s.dir, "state")).Password()); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("password hash in the state dir: %v %v", st, err)
	}
	if st := b.text("#pw-status"); !strings.Contains(st, "A password is set") {
		t.Errorf("password status after saving: %q", st)
	}
	if b.text("#pw-save") != "Change password" || !b.visible("#pw-current-row") || !b.visible("#session-card") {
		t.Error("the password form did not switch to \"change\" with a session card")
	}
	b.noErrors("password set")
	b.screenshot("journey-password")
	step("password set")

	// The server hands this browser a session with the new password, so
	// the user stays in: no login form, and the other pages still load.
	// Should the product ask for a login here instead, log in.
	b.click(`a[data-page=status]`)
	b.waitFor("the status page or the login form", `(`+textJS("#st-state")+` === "Running" && `+visibleJS("#page-status")+`) || `+visibleJS("#login-form"), 15*time.Second)
	if b.visible("#login-form") {
		t.Log("the console asks for a login after the password is set")
		b.login(password)
		b.waitFor("the status page after login", textJS("#st-state")+` === "Running" && `+visibleJS("#page-status"), 15*time.Second)
	} else {
		t.Log("the console keeps the user logged in after the password is set")
	}
	b.noErrors("after the password")

	// 3. Updates: check, install, and see the console come back on 1.1.0.
	b.click(`a[data-page=updates]`)
	b.waitFor("the update offer", textJS("#up-msg")+`.includes("1.1.0 is available") && `+visibleJS("#up-apply"), 20*time.Second)
	b.click("#up-check")
	b.waitFor("the forced check", `!document.querySelector("#up-check").disabled && `+textJS("#up-msg")+`.includes("1.1.0 is available") && `+visibleJS("#up-apply"), 20*time.Second)
	if a := b.text("#up-apply"); a != "Install 1.1.0" {
		t.Errorf("install button %q", a)
	}
	b.noErrors("update check")
	b.click("#up-apply")
	b.waitFor("the progress card", visibleJS("#up-progress-card"), 15*time.Second)
	step("update started")
	updated := textJS("#up-msg") + `.includes("Updated 1.0.0 → 1.1.0")`
	// The session outlives the restart into the new version: no login.
	b.waitFor("the update to finish, or a login", updated+` || `+visibleJS("#login-form"), 45*time.Second)
	if b.visible("#login-form") {
		t.Error("the update signed the user out")
		step("asked to log in after the update")
		b.screenshot("journey-login-after-update")
		if b.visible("#tabs") || b.visible("#page-updates") {
			t.Error("pages are shown beside the login form")
		}
		b.login(password)
		b.waitFor("the updates page after login", visibleJS("#page-updates"), 15*time.Second)
		// What the page says once back in: the update's outcome.
		b.waitFor("the update's outcome", updated+` || (`+visibleJS("#up-progress-card")+` && `+textJS("#up-progress-text")+`.includes("Updated 1.0.0 → 1.1.0"))`, 20*time.Second)
		t.Logf("after logging in again the updates page shows: msg %q, progress %q (visible %v), apply button visible %v, info %q",
			b.text("#up-msg"), b.text("#up-progress-text"), b.visible("#up-progress-card"), b.visible("#up-apply"), b.text("#up-info"))
		// The page must not contradict itself: 1.1.0 runs now.
		if b.visible("#up-msg") && strings.Contains(b.text("#up-msg"), "is available") {
			t.Errorf("after the update and login, the page still offers the update: %q", b.text("#up-msg"))
		}
		if info := b.text("#up-info"); !strings.Contains(info, "Current1.1.0") {
			t.Errorf("after the update and login, the card shows %q, want Current 1.1.0", info)
		}
	}
	step("update done")
	b.waitFor("the header on the new version", textJS("#conn")+`.includes("v1.1.0")`, 15*time.Second)
	if h := s.health(); h.Version != "1.1.0" || !h.StartedAt.After(old.StartedAt) {
		t.Errorf("health after the update: %+v (before %+v)", h, old)
	}
	b.noErrors("update")
	b.screenshot("journey-updated")

	// 4. Diagnostics: the 1.0.0 lifetime ended cleanly for the restart.
	b.click(`a[data-page=diag]`)
	b.waitFor("two lifetimes", `document.querySelectorAll("#diag-list details").length >= 2`, 15*time.Second)
	type lifetime struct {
		Verdict string `json:"verdict"`
		Summary string `json:"summary"`
	}
	lts := eval[[]lifetime](b, `[...document.querySelectorAll("#diag-list details")].map(d => ({verdict: d.querySelector(".chip").textContent, summary: d.querySelector(".sum").textContent}))`)
	t.Logf("lifetimes shown: %+v", lts)
	if lts[0].Verdict != "running" || !strings.Contains(lts[0].Summary, "v1.1.0") {
		t.Errorf("newest lifetime %+v, want running v1.1.0", lts[0])
	}
	found := false
	for _, lt := range lts[1:] {
		if strings.Contains(lt.Summary, "v1.0.0") {
			found = true
			if lt.Verdict != "clean exit" {
				t.Errorf("the 1.0.0 lifetime shows %q, want \"clean exit\" (%s)", lt.Verdict, lt.Summary)
			}
		}
	}
	if !found {
		t.Errorf("no 1.0.0 lifetime in the list: %+v", lts)
	}
	b.noErrors("diagnostics")
	b.screenshot("journey-diagnostics")
	step("diagnostics shown")
}

// login fills in and submits the login form.
func (b *browser) login(password string) {
	b.t.Helper()
	b.setValue("#login-pw", password)
	b.click(`#login-form button[type=submit]`)
	b.waitFor("the login accepted", `!`+visibleJS("#login-form")+` && `+visibleJS("#tabs"), 15*time.Second)
}
