// Package nosigpipe makes a write to a closed pipe an error instead of a
// death. Without it the Go runtime kills the process on a broken stdout or
// stderr (a dead tee, launcher or journald), with nothing logged; an
// inherited SIG_IGN does not help, as the runtime installs its own handler.
// cmd/webui imports it right after firstline, before anything can write.
//
// It registers for SIGPIPE rather than ignoring it: an ignored signal stays
// ignored across exec, so every child (scripts, dpkg) would inherit SIG_IGN;
// a caught one is reset to the default in children. The channel is never
// read, and a full channel just drops the signal.
package nosigpipe

import (
	"os"
	"os/signal"
	"syscall"
)

func init() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) }
