// Package nosigpipe makes a write to a closed pipe an error instead of a
// death. Without it the Go runtime kills the process on a broken stdout or
// stderr (a dead tee, launcher or journald), with nothing logged; an
// inherited SIG_IGN does not help, as the runtime installs its own handler.
// cmd/webui imports it right after firstline, before anything can write.
package nosigpipe

import (
	"os/signal"
	"syscall"
)

func init() { signal.Ignore(syscall.SIGPIPE) }
