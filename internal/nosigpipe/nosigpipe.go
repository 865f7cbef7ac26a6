// Package nosigpipe makes a write to a closed pipe an error instead of a
// death. Without it the Go runtime kills the process on a broken stdout or
// stderr (a dead tee, launcher or journald), with nothing logged; an
// inherited SIG_IGN does not help, as the runtime installs its own handler.
// cmd/webui imports it right after firstline, before anything can write.
//
// It ignores SIGPIPE at once (one system call), then registers for it on a
// goroutine: the first registration starts the runtime's signal thread and
// waits for it, a tenth of a start's time. Registered is where it stays,
// because an ignored signal stays ignored across exec, so every child
// (scripts, dpkg) would inherit SIG_IGN; a caught one is reset to the
// default in children. proc.Spawn therefore calls Wait before it forks.
// The channel is never read, and a full channel just drops the signal.
package nosigpipe

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

var (
	caught = make(chan struct{})
	err    error
)

func init() {
	signal.Ignore(syscall.SIGPIPE)
	go func() {
		defer close(caught)
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("SIGPIPE stays ignored, and children inherit that: %v", v)
			}
		}()
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	}()
}

// Wait returns once SIGPIPE is caught rather than ignored, so that a child
// started from now on gets the default action.
func Wait() { <-caught }

// Err is why SIGPIPE could not be caught (it is still ignored), after Wait.
func Err() error {
	Wait()
	return err
}
