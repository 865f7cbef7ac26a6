package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/termux-webui/webui/internal/auth"
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
	Restart  health.RestartInfo `json:"restart"`
	Watchdog any                `json:"watchdog"`
	Hints    []Hint             `json:"hints"`
}

func platformDocument(d Deps) platformDoc {
	doc := platformDoc{Restart: d.Restart, Hints: []Hint{}}
	if d.Report != nil {
		doc.Report = *d.Report
		doc.Hints = Hints(*d.Report)
	}
	if d.Watchdog != nil {
		doc.Watchdog = d.Watchdog()
	}
	return doc
}

func handlePlatform(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, platformDocument(d))
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

// editable are the settings the console may change. All of them are read
// at startup, so a change applies after a restart.
var editable = []string{"addr", "restart_mode", "restart_delay", "update_channel", "update_interval", "diagnostics"}

func isEditable(key string) bool {
	for _, k := range editable {
		if k == key {
			return true
		}
	}
	return false
}

// configMu serialises the console's writes to the config file.
var configMu sync.Mutex

type settingDoc struct {
	Key   string `json:"key"`
	Value string `json:"value"` // in effect now
	// File is the value in the config file, when the file sets it.
	File    *string `json:"file"`
	Default string  `json:"default"`
	// Source of Value: "default", "file:N", "env" or "flag".
	Source string `json:"source"`
	// Override names the flag or variable that wins over the file.
	Override string `json:"override,omitempty"`
	Help     string `json:"help"`
	Allowed  string `json:"allowed"`
	Restart  bool   `json:"restart"` // a change applies after a restart
	Pending  bool   `json:"pending"` // the file differs from what runs
}

type settingsDoc struct {
	ConfigFile     string       `json:"config_file"`
	FileError      string       `json:"file_error,omitempty"`
	Settings       []settingDoc `json:"settings"`
	PasswordSet    bool         `json:"password_set"`
	PasswordSource string       `json:"password_source"`
	Pending        []string     `json:"pending"`
}

// fileValues reads the config file's key = value entries.
func fileValues(path string) (map[string]string, error) {
	vals := map[string]string{}
	if path == "" {
		return vals, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return vals, nil
	}
	if err != nil {
		return vals, err
	}
	entries, err := config.Parse(path, data)
	if err != nil {
		return vals, err
	}
	for _, e := range entries {
		vals[e.Key] = e.Value
	}
	return vals, nil
}

func overrideName(key, source string) string {
	switch source {
	case "flag":
		return "--" + config.FlagName(key)
	case "env":
		return config.EnvName(key)
	}
	return ""
}

func settingsDocument(d Deps) settingsDoc {
	cfg := d.Config
	doc := settingsDoc{ConfigFile: cfg.ConfigFile, PasswordSet: d.Auth.PasswordSet(), Pending: []string{}}
	doc.PasswordSource = sourceOf(cfg, "password_hash")
	if d.Auth.store.PasswordFixed() {
		doc.PasswordSource = "env"
	} else if doc.PasswordSet {
		doc.PasswordSource = "state"
	}
	file, err := fileValues(cfg.ConfigFile)
	if err != nil {
		doc.FileError = err.Error()
	}
	for _, key := range editable {
		help, allowed, def, _ := config.Describe(key)
		s := settingDoc{Key: key, Value: cfg.Value(key), Default: def, Source: sourceOf(cfg, key),
			Help: help, Allowed: allowed, Restart: true}
		s.Override = overrideName(key, s.Source)
		if fv, ok := file[key]; ok {
			v := fv
			s.File = &v
			if c, err := config.Canonical(key, fv); s.Override == "" && (err != nil || c != s.Value) {
				s.Pending = true
			}
		} else if strings.HasPrefix(s.Source, "file:") {
			c, _ := config.Canonical(key, def)
			s.Pending = c != s.Value // removed from the file: back to the default
		}
		if s.Pending {
			doc.Pending = append(doc.Pending, key)
		}
		doc.Settings = append(doc.Settings, s)
	}
	return doc
}

func sourceOf(cfg *config.Config, key string) string {
	if s := cfg.Source[key]; s != "" {
		return s
	}
	return "default"
}

func handleSettings(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, settingsDocument(d))
	})
}

// handleSettingsUpdate takes {key: value, ...}. Every value is checked
// first, as the config file would be: with any error, nothing is written
// and each bad field says why. Then each key is written to the config file
// atomically, keeping its comments.
func handleSettingsUpdate(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if !decodeJSON(w, r, &in) {
			return
		}
		if len(in) == 0 {
			writeError(w, http.StatusBadRequest, "no settings in the request body: send {\"key\": \"value\", ...}")
			return
		}
		cfg := d.Config
		if cfg.ConfigFile == "" {
			writeError(w, http.StatusConflict, "webui runs without a config file, so settings cannot be saved")
			return
		}
		configMu.Lock()
		defer configMu.Unlock()
		file, ferr := fileValues(cfg.ConfigFile)
		if ferr != nil {
			writeError(w, http.StatusConflict, fmt.Sprintf("%v (fix the file first; nothing was changed)", ferr))
			return
		}
		fields := map[string]string{}
		vals := map[string]string{}
		for key, raw := range in {
			v, ok := stringValue(raw)
			switch {
			case !isEditable(key):
				fields[key] = key + " cannot be changed here: edit " + cfg.ConfigFile
				continue
			case !ok:
				fields[key] = "the value must be a string"
				continue
			}
			v = strings.TrimSpace(v)
			if err := config.Validate(key, v); err != nil {
				fields[key] = err.Error()
				continue
			}
			if a, _ := health.ParseAddr(v); key == "addr" && !a.IsLoopback() && !d.Auth.PasswordSet() {
				fields[key] = "set a password first: without one, webui refuses to listen on " + v + ", beyond this device"
				continue
			}
			vals[key] = v
		}
		if len(fields) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"error":  fmt.Sprintf("%d of the settings are not valid; nothing was saved", len(fields)),
				"fields": fields,
			})
			return
		}
		saved, overridden := []string{}, []string{}
		for _, key := range editable {
			v, ok := vals[key]
			if !ok {
				continue
			}
			if fv, inFile := file[key]; inFile {
				a, _ := config.Canonical(key, fv)
				b, _ := config.Canonical(key, v)
				if a == b {
					continue // unchanged
				}
			}
			if err := config.SetKey(cfg.ConfigFile, key, v); err != nil {
				writeJSON(w, http.StatusInternalServerError, map[string]any{
					"error": fmt.Sprintf("saving %s: %v", key, err), "saved": saved,
				})
				return
			}
			d.Log.WithField("key", key).WithField("value", v).Info("setting saved from the console")
			saved = append(saved, key)
			if o := overrideName(key, sourceOf(cfg, key)); o != "" {
				overridden = append(overridden, key)
			}
		}
		doc := settingsDocument(d)
		msg := "Nothing changed."
		if len(saved) > 0 {
			msg = "Saved " + strings.Join(saved, ", ") + " to " + cfg.ConfigFile + "."
			if len(doc.Pending) > 0 {
				msg += " Restart webui to apply."
			}
		}
		if len(overridden) > 0 {
			msg += " Set by a flag or environment variable, which wins over the file: " + strings.Join(overridden, ", ") + "."
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"saved": saved, "overridden": overridden, "restart_needed": len(doc.Pending) > 0,
			"message": msg, "settings": doc,
		})
	})
}

func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "on", true
		}
		return "off", true
	}
	return "", false
}

// handlePassword sets or changes the login password: {current, new}. It
// needs a session or the token (so the first password cannot be set by
// whoever comes first); with a password set, current must match it too.
// The hash goes to the state dir (0600). Every session is signed out, and
// the caller gets a new one.
func handlePassword(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Current string `json:"current"`
			New     string `json:"new"`
		}
		if !decodeJSON(w, r, &in) {
			return
		}
		a := d.Auth
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
		if f := d.Config.ConfigFile; f != "" {
			configMu.Lock()
			err = config.RemoveKey(f, "password_hash") // an old hash must not linger there
			configMu.Unlock()
			if err != nil {
				d.Log.Warnf("password saved, but the old password_hash stays in %s: %v", f, err)
			}
		}
		if !a.signIn(w, r) {
			return
		}
		d.Log.Info("login password changed from the console; sessions signed out")
		writeJSON(w, http.StatusOK, map[string]any{"ok": true,
			"message": "Password saved. Every other session was signed out."})
	})
}
