package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// SetKey sets key = value in the config file at path, keeping every other
// line and comment as it was. The new text goes to a temp file beside the
// old one, is read back and checked with the loader (it must hold exactly
// the old settings with this one changed), and only then renamed over the
// old file; the directory is fsynced. A config file that is a symlink is
// written through to its target.
func SetKey(path, key, value string) error { return edit(path, key, &value) }

// RemoveKey deletes key's line from the config file, as SetKey writes.
func RemoveKey(path, key string) error { return edit(path, key, nil) }

func edit(path, key string, value *string) error {
	s := lookup(key)
	if s == nil {
		return fmt.Errorf("unknown key %q", key)
	}
	if value != nil {
		if err := s.apply(&Config{}, *value); err != nil {
			return badValue(path, *s, *value)
		}
	}
	target, err := writeTarget(path)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	entries, err := Parse(path, old)
	if err != nil {
		return fmt.Errorf("%w (fix the file first; nothing was changed)", err)
	}
	want := map[string]string{}
	for _, e := range entries {
		want[e.Key] = e.Value
	}
	if _, had := want[key]; !had && value == nil {
		return nil
	}
	if value != nil {
		want[key] = *value
	} else {
		delete(want, key)
	}
	text := rewrite(old, key, value)

	perm := os.FileMode(0o600)
	if st, err := os.Stat(target); err == nil {
		perm = st.Mode().Perm()
	}
	if _, secret := want["password_hash"]; secret {
		perm &^= 0o077 // a hash is nobody else's business
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	t, err := renameio.NewPendingFile(target, renameio.WithStaticPermissions(perm))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer t.Cleanup()
	if _, err := t.Write(text); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := checkWritten(t.Name(), path, want); err != nil {
		return err
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(filepath.Dir(target))
	return nil
}

// checkWritten reads the temp file back and loads it as the server would:
// it must parse, every value must apply, and it must hold exactly want.
func checkWritten(tmp, name string, want map[string]string) error {
	data, err := os.ReadFile(tmp)
	if err != nil {
		return fmt.Errorf("read back %s: %w", tmp, err)
	}
	entries, err := Parse(name, data)
	if err != nil {
		return fmt.Errorf("the new text does not load (%v); nothing was changed", err)
	}
	c := &Config{Source: map[string]string{}}
	got := map[string]string{}
	for _, e := range entries {
		if err := lookup(e.Key).apply(c, e.Value); err != nil {
			return fmt.Errorf("the new text does not load: %v; nothing was changed", badValue(name, *lookup(e.Key), e.Value))
		}
		got[e.Key] = e.Value
	}
	if len(got) != len(want) {
		return fmt.Errorf("the new text of %s would hold other settings than intended; nothing was changed", name)
	}
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			return fmt.Errorf("the new text of %s would change %s unexpectedly; nothing was changed", name, k)
		}
	}
	return nil
}

// writeTarget is the file to replace: path itself, or the file a symlink
// at path points to (renaming over the link would replace the link).
func writeTarget(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		return "", fmt.Errorf("config file %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	t, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("config file %s is a symlink whose target cannot be resolved (%v): fix the link or replace it with a file; nothing was changed", path, unwrapPathErr(err))
	}
	if st, err := os.Stat(t); err == nil && !st.Mode().IsRegular() {
		return "", fmt.Errorf("config file %s points to %s, which is not a regular file; nothing was changed", path, t)
	}
	return t, nil
}

// rewrite replaces key's line (the one Parse reads as key) with the new
// setting, or drops it when value is nil, or appends the setting. A byte
// order mark is dropped: Parse ignores it, and it would hide the key of the
// first line from this match.
func rewrite(old []byte, key string, value *string) []byte {
	var out bytes.Buffer
	replaced := false
	text := strings.TrimPrefix(string(old), "\ufeff")
	for _, l := range strings.SplitAfter(text, "\n") {
		if !replaced && lineKey(l) == key {
			replaced = true
			if value != nil {
				out.WriteString(key + " = " + quote(*value) + "\n")
			}
			continue
		}
		out.WriteString(l)
	}
	if !replaced && value != nil {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteString("\n")
		}
		out.WriteString(key + " = " + quote(*value) + "\n")
	}
	return out.Bytes()
}

// lineKey is the key a config line sets, as Parse reads it, or "".
func lineKey(l string) string {
	t := strings.TrimSpace(strings.TrimPrefix(l, "\ufeff"))
	if t == "" || t[0] == '#' || t[0] == ';' {
		return ""
	}
	k, _, ok := strings.Cut(t, "=")
	if !ok {
		return ""
	}
	return strings.TrimSpace(k)
}

// WriteFileAtomic writes data to path so that a crash or full disk leaves
// the old content intact: temp file, fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := renameio.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func quote(v string) string {
	if v == "" || strings.ContainsAny(v, "#\"") || strings.TrimSpace(v) != v {
		return `"` + v + `"`
	}
	return v
}
