package diag

import (
	"context"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/sigahead"
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

// Signals are the server's signal channels, registered ahead of need
// (see sigahead): Trap carries SIGPIPE, SIGUSR1 and SIGHUP, the Trap's;
// Stop carries SIGTERM, SIGINT and SIGUSR2, the server's.
type Signals = sigahead.Set

// CatchAhead returns the Signals, registered or being registered.
func CatchAhead() *Signals { return sigahead.Take() }

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
