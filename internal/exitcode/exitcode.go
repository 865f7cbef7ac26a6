// Package exitcode names webui's process exit codes. They are part of the
// public interface (README "Exit codes"): supervisors and the watchdog decide
// whether to restart, and how soon, from them.
package exitcode

import (
	"errors"
	"fmt"
)

// The exit codes.
const (
	OK      = 0   // success, or a clean shutdown on SIGTERM/SIGINT
	Failure = 1   // a runtime failure
	Usage   = 2   // bad command line or config: retrying will not help
	Listen  = 3   // cannot listen: the port is in use or not permitted
	Running = 4   // another instance already runs
	Restart = 75  // the server asks its supervisor to start it again (EX_TEMPFAIL)
	Forced  = 130 // a second SIGINT cut the graceful shutdown short
)

// Error carries an exit code with its cause.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err with an exit code.
func New(code int, err error) error { return &Error{Code: code, Err: err} }

// Newf formats an error with an exit code.
func Newf(code int, format string, a ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, a...)}
}

// Of returns the exit code an error asks for: OK for nil, Failure when the
// error carries none.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}
