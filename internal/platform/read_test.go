package platform

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadSmall: a regular file reads whole up to maxRead; a FIFO (which
// would block an open for reading until a writer comes), a directory and
// a missing file read as absent, at once.
func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "comm")
	if err := os.WriteFile(small, []byte("termux\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, ok := readSmall(small); !ok || string(b) != "termux\n" {
		t.Errorf("small file: %q %v", b, ok)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), maxRead+4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, ok := readSmall(big); !ok || len(b) != maxRead {
		t.Errorf("big file: %d bytes, %v; want the first %d", len(b), ok, maxRead)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() { _, ok := readSmall(fifo); done <- ok }()
	select {
	case ok := <-done:
		if ok {
			t.Error("a FIFO read as a file")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readSmall waited on a FIFO")
	}
	for _, p := range []string{dir, filepath.Join(dir, "missing")} {
		if _, ok := readSmall(p); ok {
			t.Errorf("%s read as a file", p)
		}
	}
}
