package diag

import (
	"context"
	"os"
	"sync"
	"time"
)

// PipeMarkerEvery limits SIGPIPE markers: a flood of broken pipes must not
// flood the state dir.
const PipeMarkerEvery = time.Minute

// Trap handles the signals that must never kill the server silently and do
// not stop it: SIGPIPE, SIGUSR1 and SIGHUP. SIGTERM and SIGINT, which stop
// it, are the server's (kept on a separate channel, so a broken pipe can
// never be mistaken for a shutdown request).
type Trap struct {
	rec      *Recorder
	mu       sync.Mutex
	lastPipe time.Time
	pipes    int    // SIGPIPEs since the last marker
	dump     func() // also log a stack dump (SIGUSR1)
}

// NewTrap makes a trap that records into rec. dump, when set, is called on
// SIGUSR1 too (to put the stacks in the log when diagnostics are off).
func NewTrap(rec *Recorder, dump func()) *Trap { return &Trap{rec: rec, dump: dump} }

// Signals are the server's signal channels, registered ahead of need. A
// signal's first registration in a process waits on the runtime's signal
// thread (about 50 µs each, six of them), and a start needs them all before
// it listens: registering them meanwhile takes that off its path. A signal
// that comes before its reader starts waits in the channel.
type Signals struct {
	Trap chan os.Signal // SIGPIPE, SIGUSR1, SIGHUP: the Trap's
	Stop chan os.Signal // SIGTERM, SIGINT, SIGUSR2: the server's
	done chan struct{}
}

// CatchAhead starts registering the Signals.
func CatchAhead() *Signals {
	s := &Signals{Trap: make(chan os.Signal, 16), Stop: make(chan os.Signal, 4), done: make(chan struct{})}
	Go("signal registration", func() {
		defer close(s.done)
		notify(s.Trap)
		NotifyStop(s.Stop)
	})
	return s
}

// Wait returns once every signal is registered.
func (s *Signals) Wait() { <-s.done }

// Start installs the trap on s.Trap before it returns (a SIGHUP that
// arrives once the server answers must find it in place, or it kills the
// process), then handles signals in the background until ctx ends.
func (t *Trap) Start(ctx context.Context, s *Signals) {
	s.Wait()
	ch := s.Trap
	Go("signal trap", func() {
		defer stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-ch:
				t.handle(s)
			}
		}
	})
}
