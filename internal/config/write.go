package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// SetKey sets key = value in the config file at path, keeping every other
// line and comment as it was, and replaces the file atomically: a temp file
// is written and fsynced, renamed over the old one, and the directory is
// fsynced, so a crash leaves either the old file or the new one.
func SetKey(path, key, value string) error {
	s := lookup(key)
	if s == nil {
		return fmt.Errorf("unknown key %q", key)
	}
	if err := s.set(&Config{}, value); err != nil {
		return badValue(path, *s, value)
	}
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := Parse(path, old); err != nil {
		return fmt.Errorf("%w (fix the file first; nothing was changed)", err)
	}
	line := key + " = " + quote(value)
	var out bytes.Buffer
	replaced := false
	lines := strings.SplitAfter(string(old), "\n")
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if k, _, ok := strings.Cut(t, "="); ok && !replaced && !strings.HasPrefix(t, "#") && strings.TrimSpace(k) == key {
			out.WriteString(line + "\n")
			replaced = true
			continue
		}
		out.WriteString(l)
	}
	if !replaced {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteString("\n")
		}
		out.WriteString(line + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(path, out.Bytes(), 0o600)
}

// WriteFileAtomic writes data to path so that a crash or full disk leaves
// the old content intact: temp file, fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := renameio.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil // the rename happened; only durability is unconfirmed
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

func quote(v string) string {
	if v == "" || strings.ContainsAny(v, "#\"") || strings.TrimSpace(v) != v {
		return `"` + v + `"`
	}
	return v
}
