package apps

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/paths"
)

// record is what the run dir keeps of one app between webui processes:
// enough for the next webui to adopt the running process (pid plus start
// ticks name exactly one process) and to know whether its spec changed.
type record struct {
	PID        int       `json:"pid,omitempty"`
	StartTicks uint64    `json:"start_ticks,omitempty"`
	Port       int       `json:"port,omitempty"`
	Hash       string    `json:"hash,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	Restarts   int       `json:"restarts"`
	// Stopped: the user stopped it; a new webui leaves it stopped.
	Stopped bool `json:"stopped,omitempty"`
}

func (s *Supervisor) recordFile(name string) string {
	return paths.Run(s.cfg.RunDir).AppRecord(name)
}

func (s *Supervisor) lockFile(name string) string {
	return paths.Run(s.cfg.RunDir).AppLock(name)
}

func (s *Supervisor) readRecord(name string) record {
	var r record
	if b, err := os.ReadFile(s.recordFile(name)); err == nil {
		_ = json.Unmarshal(b, &r)
	}
	return r
}

// writeRecord needs no fsync: it must survive webui's death, not a power
// loss (after a reboot no app process is left to adopt).
func (s *Supervisor) writeRecord(name string, r record) error {
	b, _ := json.Marshal(r)
	if err := os.MkdirAll(filepath.Dir(s.recordFile(name)), 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(s.recordFile(name), append(b, '\n'), 0o600, renameio.WithStaticPermissions(0o600))
}

// specHash names a spec's meaning: the rendered file, so a comment or the
// order of lines changes nothing.
func specHash(s Spec) string {
	s.File = ""
	sum := sha256.Sum256(Render(s))
	return hex.EncodeToString(sum[:8])
}

// lockApp opens the app's lock file and takes the exclusive flock that its
// process will hold for its life (the fd is handed to it). A watcher that
// just saw the previous process die may still hold its shared lock for a
// moment, so a busy lock is retried briefly.
func (s *Supervisor) lockApp(name string) (*os.File, error) {
	path := s.lockFile(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR || i >= 50 {
			f.Close()
			if err == unix.EWOULDBLOCK {
				return nil, fmt.Errorf("%s is held: a process of this app still runs (not one webui started; stop it first)", path)
			}
			return nil, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockHeld reports whether somebody holds the app's lock: its process, or
// a child of it that inherited the fd.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err == nil {
		// Unlocked, not just closed: an app forked meanwhile shares f
		// until its exec, and would hold this look's lock until then.
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
	return err == unix.EWOULDBLOCK
}

// waitUnlocked blocks in flock(2) until nobody holds path's lock: the
// instant the app's process is gone, however it went (SIGKILL included),
// with no polling and no pidfd. The shared lock is dropped at once so the
// next start can take the lock. Same design as the watchdog's death watch.
func waitUnlocked(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	for unix.Flock(int(f.Fd()), unix.LOCK_SH) == unix.EINTR {
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// parentOf reads the ppid of pid from /proc (field 4 of stat, counted after
// the last ')': the command name may hold anything).
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// signalGroup sends sig to the app's process group (its own session, so
// pgid == pid: a `sh -c` wrapper's children get it too), and to the pid
// itself in case it left the group.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return errors.New("no process")
	}
	gerr := syscall.Kill(-pid, sig)
	perr := syscall.Kill(pid, sig)
	if gerr != nil && perr != nil {
		return perr
	}
	return nil
}
