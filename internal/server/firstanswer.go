package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// announceWait bounds how long the listening line and the ready hooks
// wait for the first answer.
const announceWait = 50 * time.Millisecond

// readGrace is the first client's moment to be scheduled and read its
// answer before the announcement's work (a log line, goroutines, pruning
// the records) takes both cores; that work is housekeeping. On a shared
// 2-core VM it took 0.1-0.4 ms off the median exec-to-answer time in
// three A/B runs of 300 starts each (the quartiles moved less).
const readGrace = time.Millisecond

// firstAnswer lets the first answer go before the announcement: the
// listening line, the sign-in link and the background starts (apps,
// heartbeat, housekeeping). Right after an exec restart the backlog
// holds the requests that waited through it, and right after a start
// the one who started it asks /health; on two cores that work, formatted
// and written for the first time, delayed their answers by a quarter of
// a millisecond. The announcement comes after the first answer, or after
// announceWait when nobody asks.
type firstAnswer struct {
	done chan struct{}
	seen atomic.Bool
	once sync.Once
}

func newFirstAnswer() *firstAnswer { return &firstAnswer{done: make(chan struct{})} }

// wrap marks the first request h has answered.
func (f *firstAnswer) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if !f.seen.Load() {
			f.seen.Store(true)
			f.once.Do(func() { close(f.done) })
		}
	})
}

// wait returns readGrace after a first request was answered, or after
// max when none was.
func (f *firstAnswer) wait(max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-f.done:
		time.Sleep(readGrace)
	case <-t.C:
	}
}
