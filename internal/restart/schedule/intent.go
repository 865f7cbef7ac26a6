package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// Carriers of a delayed restart.
const (
	ByHelper   = "helper"
	ByWatchdog = "watchdog"
)

// Intent is what the old server leaves behind as it exits for a delayed
// restart. It tells the watchdog that this exit is a restart, not a death
// (and not a `ctl stop`), and who starts the next server.
type Intent struct {
	PID       int       `json:"pid"`    // the old server
	Record    string    `json:"record"` // its lifetime record: starts are logged there
	By        string    `json:"by"`     // helper or watchdog
	HelperPID int       `json:"helper_pid,omitempty"`
	At        time.Time `json:"at"` // written just before the exit
	Reason    string    `json:"reason,omitempty"`
	Schedule  string    `json:"schedule"`
	Argv      []string  `json:"argv"` // the server command, argv[0] absolute
	Health    string    `json:"health"`
}

// WriteIntent writes in atomically (temp file and rename, 0600).
func WriteIntent(runDir string, in Intent) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	tmp := paths.Run(runDir).RestartIntent() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("restart intent: %w", err)
	}
	if err := os.Rename(tmp, paths.Run(runDir).RestartIntent()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restart intent: %w", err)
	}
	return nil
}

// ReadIntent reads the intent; ok is false when there is none (or it is
// unreadable: a damaged intent is no restart).
func ReadIntent(runDir string) (Intent, bool) {
	var in Intent
	b, err := os.ReadFile(paths.Run(runDir).RestartIntent())
	if err != nil || json.Unmarshal(b, &in) != nil || in.PID <= 0 {
		return Intent{}, false
	}
	return in, true
}

// RemoveIntent removes the intent of pid's restart (and no newer one).
func RemoveIntent(runDir string, pid int) {
	if in, ok := ReadIntent(runDir); ok && in.PID != pid {
		return
	}
	_ = os.Remove(paths.Run(runDir).RestartIntent())
}

// Lock is a held starter lock.
type Lock struct{ f *os.File }

// ErrBusy: another starter holds the lock.
var ErrBusy = errors.New("another process is carrying out the restart")

// TryLock takes the starter lock without waiting.
func TryLock(runDir string) (*Lock, error) { return lock(runDir, syscall.LOCK_EX|syscall.LOCK_NB) }

// WaitLock takes the starter lock, blocking in the kernel until it is
// free: it returns the instant the holder releases it or dies.
func WaitLock(runDir string) (*Lock, error) { return lock(runDir, syscall.LOCK_EX) }

func lock(runDir string, how int) (*Lock, error) {
	f, err := os.OpenFile(paths.Run(runDir).RestartLock(), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("restart lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("restart lock: %w", err)
	}
	return &Lock{f: f}, nil
}

// Held reports whether some process holds the starter lock.
func Held(runDir string) bool {
	l, err := TryLock(runDir)
	if err != nil {
		return errors.Is(err, ErrBusy)
	}
	l.Release()
	return false
}

// Release drops the lock (nil-safe). It unlocks before closing: a process
// forked meanwhile shares the open file until its exec, and a close alone
// would leave the lock held until then, so the next starter (after Held,
// say) would find it busy and give up.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
