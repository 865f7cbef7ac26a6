//go:build unix

package diag

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/sigahead"
)

// NotifyStop registers ch for the signals that stop or restart the server.
func NotifyStop(ch chan os.Signal) {
	signal.Notify(ch, sigahead.StopSignals...)
}

// stop unregisters the trap; SIGPIPE stays caught by nosigpipe's channel.
func stop(ch chan os.Signal) { signal.Stop(ch) }

func (t *Trap) handle(s os.Signal) {
	sig, _ := s.(syscall.Signal)
	switch sig {
	case syscall.SIGPIPE:
		// The write that raised it already got EPIPE; carry on.
		t.mu.Lock()
		t.pipes++
		due := time.Since(t.lastPipe) >= PipeMarkerEvery
		n := t.pipes
		if due {
			t.lastPipe, t.pipes = time.Now(), 0
		}
		t.mu.Unlock()
		if due {
			t.rec.write(Event{Event: EvSignal, Signal: int(sig), Name: "SIGPIPE",
				Action: "ignored", Count: n, UptimeS: time.Since(t.rec.startedAt()).Seconds()})
		}
	case syscall.SIGUSR1:
		t.rec.Signal(sig, "stack dump; still running")
		if t.dump != nil {
			t.dump()
		}
	case syscall.SIGHUP:
		// A closed terminal or a dropped launching session sends SIGHUP;
		// webui is meant to outlive both, so it records it and carries on.
		t.rec.Signal(sig, "ignored; still running (SIGHUP does not stop webui, use SIGTERM)")
	}
}
