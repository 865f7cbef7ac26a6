package proc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/rawfile"
	"golang.org/x/sys/unix"
)

// A pid file here is a file holding "<pid>\n" that the running server keeps
// locked with flock(2) for its whole life. The lock, not the file's
// existence or content, says whether a server runs: the kernel drops it when
// the holder dies however it dies (SIGKILL, OOM, Android killing the app), so
// a stale file left behind is harmless and a reused pid cannot fool us.
//
// flock locks belong to the open file description: they survive exec (which
// keeps fds) and conflict between two opens even inside one process.

// ErrLocked means another live holder has the pid file locked: a server is
// already running. Errors from Acquire wrap it in a *LockedError.
var ErrLocked = errors.New("pid file is locked by a running process")

// LockedError says which pid file is locked and, if the file says so, by
// which pid (0 when unknown, e.g. the holder has not written it yet).
type LockedError struct {
	Path string
	PID  int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("pid file %s is locked by pid %d: already running", e.Path, e.PID)
	}
	return fmt.Sprintf("pid file %s is locked by another process: already running", e.Path)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// PIDFile is a pid file we hold locked. Its methods are safe for concurrent
// use (Release may race a shutdown path against a deferred call).
type PIDFile struct {
	Path string

	mu sync.Mutex
	f  *os.File
}

// Acquire opens or creates path (0644), takes a non-blocking exclusive
// flock on it and writes "<our pid>\n". If another process holds the lock it
// returns a *LockedError (wrapping ErrLocked) naming the pid in the file.
//
// A lock held only for a moment (Read's probe, a racing Acquire about to
// find the file unlinked) is waited out for up to lockRetry.
//
// The classic unlink race is handled here: a process that opened the file
// just before the holder's Release unlinked it would lock an inode nobody
// can find any more. So after locking we compare the fd's inode with what
// path names now, and start over if they differ.
func Acquire(path string) (*PIDFile, error) {
	deadline := time.Now().Add(lockRetry)
	for attempt := 0; ; attempt++ {
		f, err := rawfile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("pid file: %w", err)
		}
		if h := afterOpenHook.Load(); h != nil {
			(*h)(path)
		}
		err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid, _ := readPID(f)
			_ = f.Close()
			if time.Now().After(deadline) {
				return nil, &LockedError{Path: path, PID: pid}
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("pid file %s: flock: %w", path, err)
		}
		same, err := sameFile(f, path)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("pid file: %w", err)
		}
		if !same {
			// We locked an unlinked (or replaced) inode: try the new one.
			_ = f.Close()
			if attempt >= 100 {
				return nil, fmt.Errorf("pid file %s: keeps being replaced while locking", path)
			}
			continue
		}
		if err := writePID(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("pid file %s: %w", path, err)
		}
		return &PIDFile{Path: path, f: f}, nil
	}
}

// lockRetry is how long Acquire waits out a lock held by someone else
// before it reports ErrLocked. Real holders hold for their whole life; only
// probes and losers of races hold for microseconds.
const lockRetry = 200 * time.Millisecond

// afterOpenHook, when set, runs in Acquire between open and flock; tests use
// it to force the unlink race.
var afterOpenHook atomic.Pointer[func(path string)]

// Release removes the pid file and then drops the lock, in that order: once
// the lock is free, nobody can find the name pointing at our inode any more,
// and Acquire's inode check catches anyone who opened it before the unlink.
// The file is removed only if path still names our inode. Calling Release
// again is a no-op.
func (p *PIDFile) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return nil
	}
	f := p.f
	p.f = nil
	var rmErr error
	if same, err := sameFile(f, p.Path); err == nil && same {
		if err := os.Remove(p.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rmErr = fmt.Errorf("pid file: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return errors.Join(rmErr, fmt.Errorf("pid file %s: %w", p.Path, err))
	}
	return rmErr
}

// File returns the open file that holds the lock (nil after Release), for
// callers that need the fd itself, e.g. to keep it across exec.
func (p *PIDFile) File() *os.File {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f
}

// KeepAcrossExec clears FD_CLOEXEC on the lock fd, so syscall.Exec hands the
// still-locked fd to the new image and no other process can slip in during a
// restart, and returns "<handoff.PIDFileFD>=<n>" for the new image's
// environment, where Inherit picks it up.
//
// Call it right before syscall.Exec, holding syscall.ForkLock for reading:
// until the exec, any child spawned would inherit the fd, and with it the
// lock, for its whole life. If the exec fails, call CloseOnExec.
func (p *PIDFile) KeepAcrossExec() (envVar string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return "", fmt.Errorf("pid file %s: released", p.Path)
	}
	fd := int(p.f.Fd())
	if err := SetCloexec(fd, false); err != nil {
		return "", fmt.Errorf("pid file %s: %w", p.Path, err)
	}
	return handoff.PIDFileFD + "=" + strconv.Itoa(fd), nil
}

// CloseOnExec sets FD_CLOEXEC on the lock fd again: it undoes
// KeepAcrossExec after a failed exec, so later children do not inherit the
// lock.
func (p *PIDFile) CloseOnExec() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return nil
	}
	if err := SetCloexec(int(p.f.Fd()), true); err != nil {
		return fmt.Errorf("pid file %s: %w", p.Path, err)
	}
	return nil
}

// Inherit is Acquire for a process that may have been started by exec from a
// server holding the lock (KeepAcrossExec). If getenv(handoff.PIDFileFD) names an
// open, writable fd on the same inode as path, it adopts that fd: takes the
// lock on it (a no-op when it already holds it; exec keeps flocks), marks it
// close-on-exec again and rewrites the pid (the same under exec anyway).
// Otherwise it falls back to Acquire. The caller should unset handoff.PIDFileFD
// afterwards so children do not see a stale fd number.
func Inherit(path string, getenv func(string) string) (*PIDFile, error) {
	if v := getenv(handoff.PIDFileFD); v != "" {
		if p := adopt(path, v); p != nil {
			return p, nil
		}
	}
	return Acquire(path)
}

// adopt takes over the lock fd named by v, or returns nil without touching
// an fd that does not check out (it is not known to be ours to close).
func adopt(path, v string) *PIDFile {
	fd, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || fd < 0 {
		return nil
	}
	var fst, pst unix.Stat_t
	if unix.Fstat(fd, &fst) != nil || unix.Stat(path, &pst) != nil {
		return nil
	}
	// Stat_t field widths differ per arch: compare as uint64.
	if uint64(fst.Dev) != uint64(pst.Dev) || uint64(fst.Ino) != uint64(pst.Ino) {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_ACCMODE != unix.O_RDWR {
		return nil
	}
	if flockFd(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return nil
	}
	if SetCloexec(fd, true) != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), path)
	if f == nil {
		return nil
	}
	// The fd is ours now and holds the lock: keep it even if the rewrite
	// fails (the pid is the same across exec, so the content is right).
	_ = writePID(f)
	return &PIDFile{Path: path, f: f}
}

// Read reports the pid recorded in path and whether a live process holds
// its lock. It probes with a non-blocking shared flock on a separate open
// and drops it at once: if the probe succeeds, nobody holds the lock and the
// pid is stale. pid is 0 if the file is empty. A missing file is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func Read(path string) (pid int, held bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, fmt.Errorf("pid file: %w", err)
	}
	defer func() { _ = f.Close() }()
	switch err := flock(f, unix.LOCK_SH|unix.LOCK_NB); {
	case err == nil:
		_ = flock(f, unix.LOCK_UN) // free it before anything else: Acquire may be racing us
	case errors.Is(err, unix.EWOULDBLOCK):
		held = true
	default:
		return 0, false, fmt.Errorf("pid file %s: flock: %w", path, err)
	}
	pid, err = readPID(f)
	if err != nil {
		return 0, held, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, held, nil
}

// readPID parses the first line of f; an empty file gives 0.
func readPID(f *os.File) (int, error) {
	buf := make([]byte, 64)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return 0, err
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(line)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid %q", line)
	}
	return pid, nil
}

// writePID writes "<pid>\n" over the start of f and then cuts what is left
// of the old content. That order means a reader never sees an empty file,
// and the first line is always one whole pid.
func writePID(f *os.File) error {
	b := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	// Cut only what a longer pid left: ftruncate is one more inode change
	// for the file system's journal, on every start.
	if st, err := f.Stat(); err == nil && st.Size() == int64(len(b)) {
		return nil
	}
	return f.Truncate(int64(len(b)))
}

// sameFile reports whether path still names f's inode (false if path is gone).
func sameFile(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

func flock(f *os.File, how int) error { return flockFd(int(f.Fd()), how) }

func flockFd(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// SetCloexec sets or clears FD_CLOEXEC on fd.
func SetCloexec(fd int, on bool) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return err
	}
	if on {
		fl |= unix.FD_CLOEXEC
	} else {
		fl &^= unix.FD_CLOEXEC
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, fl)
	return err
}
