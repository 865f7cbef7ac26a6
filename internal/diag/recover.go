package diag

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
)

// PanicReporter receives a panic recovered from a goroutine webui started.
type PanicReporter func(where string, value any, stack []byte)

var (
	reporterMu sync.RWMutex
	reporter   PanicReporter
)

// SetPanicReporter installs the one function every recovered panic goes to.
func SetPanicReporter(r PanicReporter) {
	reporterMu.Lock()
	reporter = r
	reporterMu.Unlock()
}

// ReportPanic hands a recovered panic to the reporter, or to stderr when
// none is installed yet.
func ReportPanic(where string, value any, stack []byte) {
	reporterMu.RLock()
	r := reporter
	reporterMu.RUnlock()
	if r != nil {
		r(where, value, stack)
		return
	}
	fmt.Fprintf(os.Stderr, "webui: panic in %s: %v\n%s", where, value, stack)
}

// Go starts fn in a goroutine that recovers its panics into the diagnostics,
// so a bug in background work is recorded instead of killing the server.
func Go(where string, fn func()) {
	go func() {
		defer Recover(where)
		fn()
	}()
}

// Recover, deferred, reports a panic in the calling goroutine and lets the
// goroutine end normally.
func Recover(where string) {
	if v := recover(); v != nil {
		ReportPanic(where, v, debug.Stack())
	}
}
