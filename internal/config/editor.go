// The console's settings editor: which keys it may change, what it shows
// of each, and how a change is checked and written to the config file.

package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/termux-webui/webui/internal/health"
)

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

// Editor shows and changes the editable settings of a running Config in
// its config file, one write at a time.
type Editor struct {
	cfg *Config
	mu  sync.Mutex
}

// NewEditor edits cfg's config file.
func NewEditor(cfg *Config) *Editor { return &Editor{cfg: cfg} }

// File is the config file the editor writes ("" when there is none).
func (e *Editor) File() string { return e.cfg.ConfigFile }

// Password is what the editor needs to know of the login password.
type Password struct {
	Set   bool // a password is configured
	Fixed bool // it comes from WEBUI_PASSWORD_HASH and cannot be changed here
}

// Setting is one editable setting as the console shows it.
type Setting struct {
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

// Settings is the console's settings page (GET /api/settings).
type Settings struct {
	ConfigFile     string    `json:"config_file"`
	FileError      string    `json:"file_error,omitempty"`
	Settings       []Setting `json:"settings"`
	PasswordSet    bool      `json:"password_set"`
	PasswordSource string    `json:"password_source"`
	Pending        []string  `json:"pending"`
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
	entries, err := Parse(path, data)
	if err != nil {
		return vals, err
	}
	for _, e := range entries {
		vals[e.Key] = e.Value
	}
	return vals, nil
}

// overrideName is the flag or variable behind a source that wins over the
// file, or "".
func overrideName(key, source string) string {
	switch source {
	case "flag":
		return "--" + FlagName(key)
	case "env":
		return EnvName(key)
	}
	return ""
}

// SourceOf says where key's value came from ("default" when unrecorded).
func (c *Config) SourceOf(key string) string {
	if s := c.Source[key]; s != "" {
		return s
	}
	return "default"
}

// Settings is what runs, what the file says, and which changes wait for a
// restart.
func (e *Editor) Settings(pw Password) Settings {
	cfg := e.cfg
	doc := Settings{ConfigFile: cfg.ConfigFile, PasswordSet: pw.Set, Pending: []string{}}
	doc.PasswordSource = cfg.SourceOf("password_hash")
	if pw.Fixed {
		doc.PasswordSource = "env"
	} else if pw.Set {
		doc.PasswordSource = "state"
	}
	file, err := fileValues(cfg.ConfigFile)
	if err != nil {
		doc.FileError = err.Error()
	}
	for _, key := range editable {
		help, allowed, def, _ := Describe(key)
		s := Setting{Key: key, Value: cfg.Value(key), Default: def, Source: cfg.SourceOf(key),
			Help: help, Allowed: allowed, Restart: true}
		s.Override = overrideName(key, s.Source)
		if fv, ok := file[key]; ok {
			v := fv
			s.File = &v
			if c, err := Canonical(key, fv); s.Override == "" && (err != nil || c != s.Value) {
				s.Pending = true
			}
		} else if strings.HasPrefix(s.Source, "file:") {
			c, _ := Canonical(key, def)
			s.Pending = c != s.Value // removed from the file: back to the default
		}
		if s.Pending {
			doc.Pending = append(doc.Pending, key)
		}
		doc.Settings = append(doc.Settings, s)
	}
	return doc
}

// Why Save changed nothing.
var (
	ErrNoSettings   = errors.New(`no settings in the request body: send {"key": "value", ...}`)
	ErrNoConfigFile = errors.New("webui runs without a config file, so settings cannot be saved")
)

// FileError: the config file cannot be read as it is; Save changed nothing.
type FileError struct{ Err error }

func (e *FileError) Error() string {
	return fmt.Sprintf("%v (fix the file first; nothing was changed)", e.Err)
}

// InvalidError: some of the values are not valid; Save changed nothing.
type InvalidError struct {
	Fields map[string]string // key -> why
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%d of the settings are not valid; nothing was saved", len(e.Fields))
}

// SaveError: writing Key failed; the keys Save returns as saved were
// written before it.
type SaveError struct {
	Key string
	Err error
}

func (e *SaveError) Error() string { return fmt.Sprintf("saving %s: %v", e.Key, e.Err) }

// Saved is what Save did.
type Saved struct {
	Saved      []string          // written to the file
	Values     map[string]string // what was written, by key
	Overridden []string          // of those, set by a flag or variable that wins over the file
	Message    string            // for people
	Settings   Settings          // after the change
}

// RestartNeeded reports whether the file now differs from what runs.
func (s Saved) RestartNeeded() bool { return len(s.Settings.Pending) > 0 }

// Save takes {key: value, ...}. Every value is checked first, as the
// config file would be: with any error, nothing is written and each bad
// field says why (*InvalidError). Then each changed key is written to the
// config file atomically, keeping its comments.
func (e *Editor) Save(in map[string]any, pw Password) (Saved, error) {
	if len(in) == 0 {
		return Saved{}, ErrNoSettings
	}
	cfg := e.cfg
	if cfg.ConfigFile == "" {
		return Saved{}, ErrNoConfigFile
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	file, err := fileValues(cfg.ConfigFile)
	if err != nil {
		return Saved{}, &FileError{Err: err}
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
		if err := Validate(key, v); err != nil {
			fields[key] = err.Error()
			continue
		}
		if a, _ := health.ParseAddr(v); key == "addr" && !a.IsLoopback() && !pw.Set {
			fields[key] = "set a password first: without one, webui refuses to listen on " + v + ", beyond this device"
			continue
		}
		vals[key] = v
	}
	if len(fields) > 0 {
		return Saved{}, &InvalidError{Fields: fields}
	}
	out := Saved{Saved: []string{}, Overridden: []string{}, Values: map[string]string{}}
	for _, key := range editable {
		v, ok := vals[key]
		if !ok {
			continue
		}
		if fv, inFile := file[key]; inFile {
			a, _ := Canonical(key, fv)
			b, _ := Canonical(key, v)
			if a == b {
				continue // unchanged
			}
		}
		if err := SetKey(cfg.ConfigFile, key, v); err != nil {
			return out, &SaveError{Key: key, Err: err}
		}
		out.Saved = append(out.Saved, key)
		out.Values[key] = v
		if overrideName(key, cfg.SourceOf(key)) != "" {
			out.Overridden = append(out.Overridden, key)
		}
	}
	out.Settings = e.Settings(pw)
	out.Message = "Nothing changed."
	if len(out.Saved) > 0 {
		out.Message = "Saved " + strings.Join(out.Saved, ", ") + " to " + cfg.ConfigFile + "."
		if out.RestartNeeded() {
			out.Message += " Restart webui to apply."
		}
	}
	if len(out.Overridden) > 0 {
		out.Message += " Set by a flag or environment variable, which wins over the file: " + strings.Join(out.Overridden, ", ") + "."
	}
	return out, nil
}

// RemoveKey takes key out of the config file, if there is one.
func (e *Editor) RemoveKey(key string) error {
	if e.cfg.ConfigFile == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return RemoveKey(e.cfg.ConfigFile, key)
}

// stringValue takes a JSON value as the text a config file would hold.
func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return onOff(x), true
	}
	return "", false
}
