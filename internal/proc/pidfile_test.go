package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/handoff"

	"golang.org/x/sys/unix"
)

func TestAcquireTwiceInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	p1, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	// flock is per open file description: a second open conflicts even in
	// the same process.
	p2, err := Acquire(path)
	if err == nil {
		_ = p2.Release()
		t.Fatal("second Acquire succeeded")
	}
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second Acquire: %v", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("error does not name the pid: %v", err)
	}
	pid, held, err := Read(path)
	if err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read = %d, %v, %v", pid, held, err)
	}
	if err := p1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := p1.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left after Release: %v", err)
	}
	if _, _, err := Read(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read of a missing file: %v", err)
	}
	p3, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer func() { _ = p3.Release() }()
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("content %q", b)
	}
}

func TestAcquireOverwritesLongerStalePID(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	if err := os.WriteFile(path, []byte("1234567890\nleftover\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, held, err := Read(path)
	if err != nil || held || pid != 1234567890 {
		t.Fatalf("Read stale = %d, %v, %v", pid, held, err)
	}
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Release() }()
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("content %q", b)
	}
}

func TestUnlinkRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	p1, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	// Between the second Acquire's open and its flock, the holder releases:
	// the file it opened is unlinked and unlocked. Locking it would succeed
	// on an inode nobody can find; Acquire must notice and start over.
	var mu sync.Mutex
	opens := 0
	hook := func(p string) {
		if p != path {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		opens++
		if opens == 1 {
			if err := p1.Release(); err != nil {
				t.Error(err)
			}
		}
	}
	afterOpenHook.Store(&hook)
	p2, err := Acquire(path)
	afterOpenHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p2.Release() }()
	if opens < 2 {
		t.Fatalf("Acquire did not retry (opens=%d)", opens)
	}
	if same, err := sameFile(p2.File(), path); err != nil || !same {
		t.Fatalf("lock is not on the file path names: %v %v", same, err)
	}
	pid, held, err := Read(path)
	if err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read = %d, %v, %v", pid, held, err)
	}
}

func TestLockHeldByOtherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	child := spawnHelper(t, envHold, path)
	waitFor(t, "child lock", func() bool {
		_, held, _ := Read(path)
		return held
	})
	pid, held, err := Read(path)
	if err != nil || !held || pid != child {
		t.Fatalf("Read = %d, %v, %v; want %d held", pid, held, err, child)
	}
	_, err = Acquire(path)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != child || !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire while child holds: %v", err)
	}

	// The kernel drops the lock when the holder dies, however it dies.
	_ = syscall.Kill(child, syscall.SIGKILL)
	if ws := mustWait(t, child); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v", ws)
	}
	pid, held, err = Read(path)
	if err != nil || held || pid != child {
		t.Fatalf("Read after death = %d, %v, %v; want stale %d", pid, held, err, child)
	}
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Release() }()
	if pid, held, _ := Read(path); !held || pid != os.Getpid() {
		t.Fatalf("Read after takeover = %d, %v", pid, held)
	}
}

func TestKeepAcrossExec(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	child := spawnHelper(t, envExec, path)
	waitFor(t, "child lock", func() bool {
		_, held, _ := Read(path)
		return held
	})
	// From the first Acquire through the exec and Inherit, the lock never
	// lapses and the pid never changes.
	marker := path + ".inherited"
	reads := 0
	deadline := time.Now().Add(8 * time.Second)
	for {
		_, merr := os.Stat(marker)
		pid, held, err := Read(path)
		reads++
		if err != nil || !held || pid != child {
			t.Fatalf("read %d: Read = %d, %v, %v; want %d held", reads, pid, held, err, child)
		}
		if merr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the exec'd image")
		}
		time.Sleep(time.Millisecond)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "adopted" {
		t.Fatalf("new image: %q, want adopted (with FD_CLOEXEC set again)", b)
	}
	if reads < 10 {
		t.Logf("only %d reads across the exec", reads)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire after exec: %v", err)
	}
}

func TestInheritFallback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "webui.pid")
	other, err := os.Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	// A fd on another file, a closed fd and garbage all fall back to Acquire
	// and leave that fd alone.
	for _, v := range []string{"", "garbage", "-1", "999999", strconv.Itoa(int(other.Fd()))} {
		p, err := Inherit(path, func(string) string { return v })
		if err != nil {
			t.Fatalf("Inherit(%q): %v", v, err)
		}
		if int(p.File().Fd()) == int(other.Fd()) {
			t.Fatalf("Inherit(%q) adopted an unrelated fd", v)
		}
		if err := p.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Stat(); err != nil {
		t.Fatalf("unrelated fd was touched: %v", err)
	}

	// In-process adoption: KeepAcrossExec, then Inherit a dup of the fd (a
	// dup shares the open file description, and so the lock, as exec does).
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := p.KeepAcrossExec()
	if err != nil {
		t.Fatal(err)
	}
	name, v, _ := strings.Cut(kv, "=")
	if name != handoff.PIDFileFD || v != strconv.Itoa(int(p.File().Fd())) || cloexec(p.File()) {
		t.Fatalf("KeepAcrossExec = %q, cloexec %v", kv, cloexec(p.File()))
	}
	if err := p.CloseOnExec(); err != nil || !cloexec(p.File()) {
		t.Fatalf("CloseOnExec: %v", err)
	}
	nfd, err := unix.Dup(int(p.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Inherit(path, func(k string) string {
		if k == handoff.PIDFileFD {
			return strconv.Itoa(nfd)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if int(q.File().Fd()) != nfd || !cloexec(q.File()) {
		t.Fatalf("Inherit did not adopt fd %d (got %d)", nfd, q.File().Fd())
	}
	_ = p.File().Close() // drop the "old image's" fd without removing the file
	if pid, held, err := Read(path); err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read after adoption = %d, %v, %v", pid, held, err)
	}
	if err := q.Release(); err != nil {
		t.Fatal(err)
	}
	if _, held, err := Read(path); held || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Release: held %v, %v", held, err)
	}
}
