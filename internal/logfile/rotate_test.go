package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyTruncate: past the limit the file is kept as .1 (older copies
// shift up, the oldest beyond keep is dropped) and emptied in place, and a
// writer holding it open (O_APPEND) writes on at its new start.
func TestCopyTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	for _, gen := range []string{"one", "two", "three"} {
		if _, err := w.WriteString(strings.Repeat(gen, 10) + "\n"); err != nil {
			t.Fatal(err)
		}
		if err := CopyTruncate(path, 20, 2); err != nil {
			t.Fatal(err)
		}
		if got := read(path); got != "" {
			t.Fatalf("%s: not emptied: %q", gen, got)
		}
	}
	if !strings.HasPrefix(read(path+".1"), "three") || !strings.HasPrefix(read(path+".2"), "two") {
		t.Errorf(".1 %q, .2 %q", read(path+".1"), read(path+".2"))
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than 2 copies: %v", err)
	}
	if _, err := w.WriteString("small\n"); err != nil {
		t.Fatal(err)
	}
	if err := CopyTruncate(path, 20, 2); err != nil || read(path) != "small\n" {
		t.Errorf("a small file was rotated: %q, %v", read(path), err)
	}
	if st, err := os.Stat(path + ".1"); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("the copy's mode: %v", st.Mode())
	}
	if err := CopyTruncate(filepath.Join(t.TempDir(), "none.log"), 1, 1); err != nil {
		t.Errorf("a missing file: %v", err)
	}
}
