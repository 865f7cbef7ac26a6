package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
)

// States of an update, as /api/updates/status and `webui update status`
// report them.
const (
	StateIdle        = "idle"
	StateDownloading = "downloading"
	StateVerifying   = "verifying"
	StateInstalling  = "installing"
	StateRestarting  = "restarting"
	StateConfirming  = "confirming"
	StateDone        = "done"
	StateFailed      = "failed"
	StateRolledBack  = "rolled_back"
)

// Busy reports whether state is a step of an update in progress.
func Busy(state string) bool {
	switch state {
	case StateDownloading, StateVerifying, StateInstalling, StateRestarting, StateConfirming:
		return true
	}
	return false
}

// Progress is how much of the artifact has arrived.
type Progress struct {
	Bytes int64 `json:"bytes"`
	Total int64 `json:"total"`
}

// Status is the state of the last (or current) update. It is kept in
// <state_dir>/updates/status.json, so it survives the restart it causes.
type Status struct {
	State     string    `json:"state"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Method    string    `json:"method,omitempty"` // swap or dpkg
	Progress  Progress  `json:"progress"`
	Message   string    `json:"message"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReadStatus reads the persisted status; no file means idle.
func ReadStatus(stateDir string) (Status, error) {
	b, err := os.ReadFile(paths.State(stateDir).Updates().Status())
	if errors.Is(err, fs.ErrNotExist) {
		return Status{State: StateIdle, Message: "no update has run"}, nil
	}
	if err != nil {
		return Status{State: StateIdle}, err
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil || st.State == "" {
		return Status{State: StateIdle, Message: "status file is damaged"}, fmt.Errorf("%s: damaged", paths.State(stateDir).Updates().Status())
	}
	return st, nil
}

// WriteStatus persists st atomically (temp file, fsync, rename).
func WriteStatus(stateDir string, st Status) error {
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = time.Now().UTC()
	}
	if err := os.MkdirAll(string(paths.State(stateDir).Updates()), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(paths.State(stateDir).Updates().Status(), append(b, '\n'))
}

// writeAtomic writes a state file: temp file, fsync, rename, mode 0600.
func writeAtomic(path string, b []byte) error { return config.WriteFileAtomic(path, b, 0o600) }

// Lock is the apply lock: one update at a time, across processes.
type Lock struct {
	f      *os.File
	handed bool // a helper inherited f and holds the lock now
}

// ErrBusy means another update holds the lock.
var ErrBusy = &Error{Code: 409, Msg: "an update is already in progress (another apply, or the confirmation of the last one)"}

// TryLock takes the apply lock without waiting.
func TryLock(stateDir string) (*Lock, error) {
	if err := os.MkdirAll(string(paths.State(stateDir).Updates()), 0o700); err != nil {
		return nil, fmt.Errorf("updates dir: %w", err)
	}
	f, err := os.OpenFile(paths.State(stateDir).Updates().ApplyLock(), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("apply lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("apply lock: %w", err)
	}
	return &Lock{f: f}, nil
}

// File is the lock's open file, for a helper to inherit.
func (l *Lock) File() *os.File { return l.f }

// HandedOff says a started helper inherited the file: from now on the
// lock is the helper's, and Release only closes this process's copy.
func (l *Lock) HandedOff() { l.handed = true }

// Release drops this process's hold. Unless a helper was handed the lock,
// it unlocks before closing: a process forked meanwhile elsewhere in the
// server (a hosted app, dpkg) shares the open file until its exec, and a
// close alone would leave the lock held until then.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		if !l.handed {
			_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
		}
		l.f.Close()
		l.f = nil
	}
}

// Error is an update error with the HTTP status that fits it.
type Error struct {
	Code int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status code the API answers with.
func (e *Error) HTTPStatus() int { return e.Code }

func errorf(code int, format string, a ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// InheritedLock checks that fd is the apply lock of stateDir (the
// confirmation helper inherits it as fd 3), keeps it from leaking into
// the processes the helper starts, and returns the function that drops
// it; nil when fd is something else.
func InheritedLock(fd int, stateDir string) func() {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat(paths.State(stateDir).Updates().ApplyLock(), &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return nil
	}
	unix.CloseOnExec(fd)
	return func() { _ = unix.Close(fd) }
}
