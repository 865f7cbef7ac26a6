package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loaded resolves a Config from a config file and vars, as serve does.
func loaded(t *testing.T, file string, vars map[string]string) *Config {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"HOME": dir, "WEBUI_CONFIG": filepath.Join(dir, "webui.conf")}
	if err := os.WriteFile(all["WEBUI_CONFIG"], []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := Loader{Getenv: env(all), Euid: 1000}.load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func settingOf(t *testing.T, doc Settings, key string) Setting {
	t.Helper()
	for _, s := range doc.Settings {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no %s in %+v", key, doc)
	return Setting{}
}

func fileOf(s Setting) string {
	if s.File == nil {
		return "(none)"
	}
	return *s.File
}

func TestEditorSettings(t *testing.T) {
	cfg := loaded(t, "# mine\nrestart_delay = 5s\nupdate_channel = beta\n", map[string]string{"WEBUI_RESTART_MODE": "exec"})
	// The file changed after start: update_channel is pending.
	os.WriteFile(cfg.ConfigFile, []byte("# mine\nrestart_delay = 5s\nupdate_channel = edge\nrestart_mode = delayed\n"), 0o600)
	doc := NewEditor(cfg).Settings(Password{})
	if doc.ConfigFile != cfg.ConfigFile || doc.PasswordSet || doc.PasswordSource != "default" {
		t.Fatalf("doc %+v", doc)
	}
	if s := settingOf(t, doc, "restart_delay"); s.Value != "5s" || s.Source != "file:2" || s.Pending || !s.Restart || s.Default != "15s" {
		t.Errorf("restart_delay %+v", s)
	}
	if s := settingOf(t, doc, "update_channel"); s.Value != "beta" || fileOf(s) != "edge" || !s.Pending {
		t.Errorf("update_channel %+v", s)
	}
	if s := settingOf(t, doc, "restart_mode"); s.Value != "exec" || s.Source != "env" || s.Override != "WEBUI_RESTART_MODE" || s.Pending {
		t.Errorf("restart_mode %+v", s)
	}
	if s := settingOf(t, doc, "addr"); s.Source != "default" || s.File != nil {
		t.Errorf("addr %+v", s)
	}
	if strings.Join(doc.Pending, ",") != "update_channel" || len(doc.Settings) != len(editable) {
		t.Errorf("pending %v, %d settings", doc.Pending, len(doc.Settings))
	}
	if src := NewEditor(cfg).Settings(Password{Set: true, Fixed: true}).PasswordSource; src != "env" {
		t.Errorf("fixed password source %q", src)
	}
	// Removed from the file: back to the default, after a restart.
	os.WriteFile(cfg.ConfigFile, []byte("# mine\n"), 0o600)
	if s := settingOf(t, NewEditor(cfg).Settings(Password{}), "restart_delay"); !s.Pending {
		t.Errorf("removed restart_delay %+v", s)
	}
}

func TestEditorSave(t *testing.T) {
	cfg := loaded(t, "# my settings\nrestart_delay = 15s  # keep this\n", map[string]string{"WEBUI_UPDATE_CHANNEL": "beta"})
	e := NewEditor(cfg)
	res, err := e.Save(map[string]any{"restart_delay": "20s", "diagnostics": false, "update_channel": " edge "}, Password{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RestartNeeded() || !strings.Contains(res.Message, "Restart webui to apply") || strings.Join(res.Overridden, ",") != "update_channel" {
		t.Fatalf("result %+v", res)
	}
	if strings.Join(res.Saved, ",") != "restart_delay,update_channel,diagnostics" || res.Values["diagnostics"] != "off" {
		t.Errorf("saved %v %v", res.Saved, res.Values)
	}
	b, _ := os.ReadFile(cfg.ConfigFile)
	for _, want := range []string{"# my settings\n", "restart_delay = 20s\n", "diagnostics = off\n", "update_channel = edge\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("file lacks %q:\n%s", want, b)
		}
	}
	if cfg.RestartDelay != 15*time.Second {
		t.Error("the running config changed")
	}
	if s := settingOf(t, res.Settings, "restart_delay"); !s.Pending || fileOf(s) != "20s" || s.Value != "15s" {
		t.Errorf("restart_delay after save %+v", s)
	}
	// The same value again is no change.
	if res, err := e.Save(map[string]any{"restart_delay": "20s"}, Password{}); err != nil || len(res.Saved) != 0 || res.Message != "Nothing changed." {
		t.Errorf("unchanged value saved: %+v %v", res, err)
	}
}

func TestEditorRefuses(t *testing.T) {
	cfg := loaded(t, "restart_delay = 15s\n", nil)
	e := NewEditor(cfg)
	before, _ := os.ReadFile(cfg.ConfigFile)
	_, err := e.Save(map[string]any{
		"restart_delay": "soon", "restart_mode": "fast", "state_dir": "/tmp/x", "addr": "0.0.0.0:8787",
		"update_interval": "2h", "update_channel": []string{"x"},
	}, Password{})
	var invalid *InvalidError
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "5 of the settings are not valid; nothing was saved") {
		t.Fatalf("%v", err)
	}
	for key, want := range map[string]string{
		"restart_delay":  `bad value "soon" for restart_delay (allowed: a duration such as 15s or 0)`,
		"restart_mode":   "allowed: auto, exec, delayed, supervisor",
		"state_dir":      "cannot be changed here",
		"addr":           "set a password first",
		"update_channel": "must be a string",
	} {
		if f := invalid.Fields[key]; !strings.Contains(f, want) {
			t.Errorf("%s: %q, want %q", key, f, want)
		}
	}
	if _, ok := invalid.Fields["update_interval"]; ok || len(invalid.Fields) != 5 {
		t.Errorf("fields %v", invalid.Fields)
	}
	if after, _ := os.ReadFile(cfg.ConfigFile); string(after) != string(before) {
		t.Errorf("file changed on a rejected request:\n%s", after)
	}
	// With a password, a public address is fine.
	if _, err := e.Save(map[string]any{"addr": "0.0.0.0:8787"}, Password{Set: true}); err != nil {
		t.Errorf("public addr with a password: %v", err)
	}
	if _, err := e.Save(map[string]any{}, Password{}); !errors.Is(err, ErrNoSettings) {
		t.Errorf("empty: %v", err)
	}
	// A broken config file is reported, not overwritten.
	os.WriteFile(cfg.ConfigFile, []byte("bogus line\n"), 0o600)
	var broken *FileError
	if _, err := e.Save(map[string]any{"restart_delay": "1s"}, Password{}); !errors.As(err, &broken) || !strings.Contains(err.Error(), "malformed line") {
		t.Errorf("broken file: %v", err)
	}
	if _, err := NewEditor(&Config{}).Save(map[string]any{"restart_delay": "1s"}, Password{}); !errors.Is(err, ErrNoConfigFile) {
		t.Errorf("no config file: %v", err)
	}
	if err := NewEditor(&Config{}).RemoveKey("password_hash"); err != nil {
		t.Errorf("RemoveKey without a file: %v", err)
	}
}
