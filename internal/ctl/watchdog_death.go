package ctl

import (
	"bytes"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/diag"
)

// death is a server that is gone: the kernel released its pid file lock.
type death struct {
	pid int
	at  time.Time
}

// deathWatch learns of a server's death without polling and without
// pidfd (which Android ≤ 11 forbids): the server holds an exclusive flock
// on its pid file for its whole life, across an exec restart too, and a
// blocking shared flock on the same file is granted the instant the holder
// is gone, however it went (SIGKILL included). The shared lock is dropped
// at once, so a new server can take the file.
type deathWatch struct {
	path string
	arm  chan int // a pid to watch; one at a time
	died chan death
}

func newDeathWatch(pidFile string) *deathWatch {
	d := &deathWatch{path: pidFile, arm: make(chan int), died: make(chan death, 1)}
	diag.Go("watchdog death watch", d.run)
	return d
}

func (d *deathWatch) run() {
	for pid := range d.arm {
		d.died <- death{pid: pid, at: waitUnlocked(d.path)}
	}
}

// waitUnlocked blocks in flock(2) until nobody holds path's lock, and
// returns when that was. A missing file means nobody holds it.
func waitUnlocked(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Now()
	}
	defer f.Close()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
		if err != syscall.EINTR {
			break
		}
	}
	at := time.Now()
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return at
}

// pidFileChanges signals (coalesced) each time a file named name in dir
// is written or moved into place: a server that someone else starts
// writes its pid file, and the watchdog arms its death watch on it at
// once, not at its next probe. It blocks in read(2) on an inotify fd, so
// it costs nothing while nothing happens. nil when inotify is unavailable
// (the probes then find new servers).
func pidFileChanges(dir, name string) <-chan struct{} {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MODIFY|unix.IN_MOVED_TO|unix.IN_CREATE); err != nil {
		unix.Close(fd)
		return nil
	}
	ch := make(chan struct{}, 1)
	diag.Go("watchdog pid file watch", func() {
		defer unix.Close(fd)
		buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
		for {
			n, err := unix.Read(fd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				if string(bytes.TrimRight(nameBytes, "\x00")) == name {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	})
	return ch
}
