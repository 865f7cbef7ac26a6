package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/sirupsen/logrus"
	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/ctl"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/platform"
)

// decodeJSON reads a small JSON body into v, answering 400 when it cannot.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeSmallJSON(w, r, v, 64<<10)
}

// decodeSmallJSON is decodeJSON for bodies of at most max bytes.
func decodeSmallJSON(w http.ResponseWriter, r *http.Request, v any, max int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

// Hint is advice the status page shows when it applies to this platform.
type Hint struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// platformDoc is GET /api/platform: the report as `webui platform --json`
// prints it, plus the watchdog's state and the hints that apply.
type platformDoc struct {
	platform.Report
	Restart  health.RestartInfo  `json:"restart"`
	Watchdog *ctl.WatchdogStatus `json:"watchdog"`
	Hints    []Hint              `json:"hints"`
}

// platformStatus makes the platform document, asking the watchdog's
// state afresh each time.
func platformStatus(report *platform.Report, restart health.RestartInfo, watchdog func() ctl.WatchdogStatus) func() platformDoc {
	return func() platformDoc {
		doc := platformDoc{Restart: restart, Hints: []Hint{}}
		if report != nil {
			doc.Report = *report
			doc.Hints = Hints(*report)
		}
		if watchdog != nil {
			w := watchdog()
			doc.Watchdog = &w
		}
		return doc
	}
}

func handlePlatform(status func() platformDoc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, status())
	})
}

// Hints lists the platform advice that applies to r.
func Hints(r platform.Report) []Hint {
	out := []Hint{}
	if r.Termux.Value {
		out = append(out, Hint{ID: "wake_lock", Title: "Keep Termux awake",
			Text: "Android may suspend Termux while the screen is off. Run `termux-wake-lock` " +
				"(or tap \"Acquire wakelock\" in the Termux notification) to keep webui answering."})
	}
	if v := androidMajor(r.AndroidVersion); r.Android.Value && v >= 12 {
		out = append(out, Hint{ID: "phantom_process_killer", Title: "Android " + strconv.Itoa(v) + ": phantom process killer",
			Text: "Android 12 and later kill background processes of apps past a limit, without a trace. " +
				"On Android 14+: Developer options → \"Disable child process restrictions\". On Android 12–13, from a computer: " +
				"`adb shell device_config set_sync_disabled_for_tests persistent` then " +
				"`adb shell device_config put activity_manager max_phantom_processes 2147483647`."})
	}
	return out
}

func androidMajor(v string) int {
	i := strings.IndexFunc(v, func(r rune) bool { return !unicode.IsDigit(r) })
	if i >= 0 {
		v = v[:i]
	}
	n, _ := strconv.Atoi(v)
	return n
}

func passwordState(a *Auth) config.Password {
	return config.Password{Set: a.PasswordSet(), Fixed: a.store.PasswordFixed()}
}

func handleSettings(editor *config.Editor, a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, editor.Settings(passwordState(a)))
	})
}

// handleSettingsUpdate takes {key: value, ...} and saves it to the config
// file (config.Editor.Save): 400 with a reason per field when a value is
// not valid, 409 without a config file or with a broken one.
func handleSettingsUpdate(editor *config.Editor, a *Auth, log logrus.FieldLogger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if !decodeJSON(w, r, &in) {
			return
		}
		res, err := editor.Save(in, passwordState(a))
		var (
			invalid *config.InvalidError
			broken  *config.FileError
			failed  *config.SaveError
		)
		switch {
		case errors.As(err, &failed):
			logSaved(log, res)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "saved": res.Saved})
			return
		case errors.As(err, &invalid):
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "fields": invalid.Fields})
			return
		case errors.Is(err, config.ErrNoSettings):
			writeError(w, http.StatusBadRequest, err.Error())
			return
		case errors.Is(err, config.ErrNoConfigFile), errors.As(err, &broken):
			writeError(w, http.StatusConflict, err.Error())
			return
		case err != nil:
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		logSaved(log, res)
		writeJSON(w, http.StatusOK, map[string]any{
			"saved": res.Saved, "overridden": res.Overridden, "restart_needed": res.RestartNeeded(),
			"message": res.Message, "settings": res.Settings,
		})
	})
}

func logSaved(log logrus.FieldLogger, res config.Saved) {
	for _, key := range res.Saved {
		log.WithField("key", key).WithField("value", res.Values[key]).Info("setting saved from the console")
	}
}

// handlePassword sets or changes the login password: {current, new}. It
// needs a session or the token (so the first password cannot be set by
// whoever comes first); with a password set, current must match it too.
// The hash goes to the state dir (0600). Every session is signed out, and
// the caller gets a new one.
func handlePassword(a *Auth, editor *config.Editor, log logrus.FieldLogger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Current string `json:"current"`
			New     string `json:"new"`
		}
		if !decodeJSON(w, r, &in) {
			return
		}
		if a.store.PasswordFixed() {
			writeError(w, http.StatusConflict, "the password comes from WEBUI_PASSWORD_HASH, which wins over what is saved here: change it there")
			return
		}
		if a.PasswordSet() {
			if a.tooMany(w, r) {
				return
			}
			if !a.Verify(in.Current) {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": "the current password is wrong",
					"fields": map[string]string{"current": "wrong password"}})
				return
			}
			a.limit.succeeded(limitKey(r))
		}
		if len(in.New) < auth.MinPasswordLen {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "the new password is too short",
				"fields": map[string]string{"new": fmt.Sprintf("use at least %d characters", auth.MinPasswordLen)}})
			return
		}
		hash, err := a.hasher(in.New)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "hash: "+err.Error())
			return
		}
		if err := a.SetPassword(hash); err != nil {
			writeError(w, http.StatusInternalServerError, "saving the password: "+err.Error())
			return
		}
		if err := editor.RemoveKey("password_hash"); err != nil { // an old hash must not linger there
			log.Warnf("password saved, but the old password_hash stays in %s: %v", editor.File(), err)
		}
		if !a.signIn(w, r) {
			return
		}
		log.Info("login password changed from the console; sessions signed out")
		writeJSON(w, http.StatusOK, map[string]any{"ok": true,
			"message": "Password saved. Every other session was signed out."})
	})
}
