package update

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/proc"
)

// reapChild collects pid once it exits, if it is our child: after an
// exec restart the new image is the parent of the confirmation helper the
// old one spawned, and nobody else would wait for it (a zombie). It waits
// on SIGCHLD, not by polling.
func reapChild(pid int) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	look, cancel := context.WithCancel(context.Background())
	cancel() // Wait on a done context only looks
	for {
		if _, err := proc.Wait(look, pid); err == nil || errors.Is(err, syscall.ECHILD) {
			return // reaped, or not ours to reap
		}
		select {
		case <-ch:
		case <-time.After(time.Minute):
		}
	}
}
