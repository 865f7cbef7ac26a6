package ctl

import (
	"os"
	"syscall"
	"time"

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
