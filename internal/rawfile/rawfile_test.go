package rawfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 70000} {
		want := bytes.Repeat([]byte("ab"), n)[:n]
		if err := os.WriteFile(name, want, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.ReadAll(1 << 20)
		f.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%d bytes: got %d, %v", n, len(got), err)
		}
		f, _ = Open(name)
		got, err = f.ReadAll(100)
		f.Close()
		if n > 100 && (!errors.Is(err, ErrTooLarge) || !bytes.Equal(got, want[:100])) {
			t.Errorf("%d bytes, limit 100: got %d, %v", n, len(got), err)
		}
		if n == 100 && err != nil {
			t.Errorf("exactly the limit: %v", err)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("a directory opened as a file")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Open(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a FIFO opened as a file")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open waited on a FIFO for a writer")
	}
}

// Chmod changes the file that was opened, even once its name points to
// another; ID tells the two apart.
func TestChmodAndID(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "secret")
	if err := os.WriteFile(name, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Perm() != 0o644 {
		t.Fatalf("Perm = %v", f.Perm())
	}
	first := f.ID()
	if err := os.Rename(name, name+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(name + ".old"); st.Mode().Perm() != 0o600 {
		t.Errorf("the opened file is %v", st.Mode().Perm())
	}
	if st, _ := os.Stat(name); st.Mode().Perm() != 0o644 {
		t.Errorf("the file now at its name is %v: Chmod went by name", st.Mode().Perm())
	}
	var st syscall.Stat_t
	if err := syscall.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	if IDOf(&st) == first {
		t.Error("a new file has the old one's ID")
	}
	if err := syscall.Stat(name+".old", &st); err != nil {
		t.Fatal(err)
	}
	if IDOf(&st) != first {
		t.Errorf("stat and fstat disagree: %+v vs %+v", IDOf(&st), first)
	}
}

// OpenFile makes a close-on-exec file with the mode asked for, as
// os.OpenFile does.
func TestOpenFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "record")
	f, err := OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(name); st.Mode().Perm() != 0o600 || st.Size() != 5 {
		t.Errorf("mode %v, size %d", st.Mode().Perm(), st.Size())
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFD, 0)
	if errno != 0 || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("not close-on-exec: %v %v", flags, errno)
	}
	if _, err := OpenFile(filepath.Join(name, "x"), os.O_RDONLY, 0); err == nil {
		t.Error("opened a path through a file")
	}
}
