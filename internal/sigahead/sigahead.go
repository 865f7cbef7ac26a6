// Package sigahead registers a server's signals while the rest of the
// program initialises. A signal's first registration in a process waits on
// a round trip to the runtime's signal thread, about 50 µs each on a shared
// two-core machine, and a server needs six before it answers; begun at
// package initialisation, on a goroutine, they are done by then.
//
// It imports only firstline (to know a server lifetime from a command) and
// the standard library, so it is initialised right after firstline.
package sigahead

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/termux-webui/webui/internal/firstline"
)

// The server's signals, by who handles them: these never stop it...
var TrapSignals = []os.Signal{syscall.SIGPIPE, syscall.SIGUSR1, syscall.SIGHUP}

// ...and these stop or restart it.
var StopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2}

// Set is a channel for each group, registered on a goroutine. A signal
// that comes before its reader starts waits in its channel.
type Set struct {
	Trap chan os.Signal // TrapSignals
	Stop chan os.Signal // StopSignals
	done chan struct{}
	err  error
}

// Register starts registering a new Set.
func Register() *Set {
	s := &Set{Trap: make(chan os.Signal, 16), Stop: make(chan os.Signal, 4), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		// Diagnostics are not installed yet: Err carries a panic to them.
		defer func() {
			if v := recover(); v != nil {
				s.err = fmt.Errorf("signal registration: %v", v)
			}
		}()
		signal.Notify(s.Trap, TrapSignals...)
		signal.Notify(s.Stop, StopSignals...)
	}()
	return s
}

// Wait returns once every signal is registered.
func (s *Set) Wait() { <-s.done }

// Err is why the registration failed, after Wait.
func (s *Set) Err() error {
	s.Wait()
	return s.err
}

var (
	early *Set // begun at init in a server process
	taken atomic.Bool
)

func init() {
	if firstline.Server {
		early = Register()
	}
}

// Take returns the Set begun at initialisation, to its one caller, or else
// a new one.
func Take() *Set {
	if early != nil && taken.CompareAndSwap(false, true) {
		return early
	}
	return Register()
}
