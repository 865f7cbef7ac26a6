package logging

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/diag"
)

// DefaultFlushEvery bounds how long a log line may sit in memory before it
// reaches the file: what a SIGKILL (or the power going) can lose. Warnings
// and errors never wait.
const DefaultFlushEvery = 100 * time.Millisecond

// flushAt is the buffer size that the writer filling it writes out at
// once, without waiting for the flusher. It is large so that a busy server
// leaves the writing to the flusher: a file write is a blocking system
// call, and one from a request goroutine every 32 KiB (as this was) made
// the runtime hand that goroutine's P to another thread and wake its
// monitor, 0.12 context switches per answered asset against 0.078 with
// the access log off. At 1 MiB it was 0.065-0.090.
const flushAt = 1 << 20

// writeChunk bounds one write to the file. The rotating writer refuses
// whole a write larger than its maximum file size (1 MiB at the least),
// and rotates before a write that would not fit, so a file ends at most
// one chunk short of full; a chunk ends at a line's end, so no line is
// split across two files. (The context switches above come from where the
// writes are made, not from how many: 64 KiB chunks measured as 512 KiB.)
const writeChunk = 64 << 10

// writeLines writes b in chunks of whole lines of at most writeChunk
// bytes (a longer line goes alone).
func writeLines(w io.Writer, b []byte) {
	for len(b) > 0 {
		n := len(b)
		if n > writeChunk {
			n = bytes.LastIndexByte(b[:writeChunk], '\n') + 1
			if n == 0 {
				if n = bytes.IndexByte(b, '\n') + 1; n == 0 {
					n = len(b)
				}
			}
		}
		_, _ = w.Write(b[:n])
		b = b[n:]
	}
}

// keepAtLeast: a flushed buffer this large is kept for reuse only while
// a quarter of it was used, so a burst's buffer is not held for good.
const keepAtLeast = 64 << 10

// bufferedWriter gathers log lines in memory, so a busy server makes one
// write(2) per flush instead of one per request. A background goroutine
// writes them out every so often, but only while there is something to
// write: an idle server has no timer running for it.
type bufferedWriter struct {
	w     io.Writer
	every time.Duration

	wmu sync.Mutex // held while writing to w, so flushes keep their order

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	direct bool // closed, or the flusher died: write through

	kick      chan struct{} // the buffer went from empty to not empty
	stop      chan struct{}
	stopOnce  sync.Once
	startOnce sync.Once // the flusher starts with the first buffered line
	done      chan struct{}
}

func newBufferedWriter(w io.Writer, every time.Duration) *bufferedWriter {
	return &bufferedWriter{w: w, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.direct {
		b.mu.Unlock()
		return b.writeThrough(p)
	}
	empty := len(b.buf) == 0
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= flushAt
	b.mu.Unlock()
	if empty {
		// Not before: a start's path to its first answer writes no line.
		b.startOnce.Do(func() { go b.run() })
	}
	if full {
		b.Flush()
	} else if empty {
		select {
		case b.kick <- struct{}{}:
		default: // a flush is already due
		}
	}
	return len(p), nil
}

// writeThrough writes p after anything still buffered, keeping the order.
func (b *bufferedWriter) writeThrough(p []byte) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.flushLocked()
	return b.w.Write(p)
}

// Flush writes out what is buffered. Write errors (a full disk) are dropped:
// logging must never take the server down.
func (b *bufferedWriter) Flush() {
	b.wmu.Lock()
	defer b.wmu.Unlock() // a panicking writer must not leave it held
	b.flushLocked()
}

func (b *bufferedWriter) flushLocked() {
	b.mu.Lock()
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	b.mu.Unlock()
	if len(out) == 0 {
		b.mu.Lock()
		b.spare = out
		b.mu.Unlock()
		return
	}
	writeLines(b.w, out)
	if cap(out) > keepAtLeast && len(out) < cap(out)/4 {
		out = nil // one burst must not pin a large buffer for good
	}
	b.mu.Lock()
	if b.spare == nil {
		b.spare = out[:0]
	}
	b.mu.Unlock()
}

// run flushes every's time after the buffer stops being empty. A panic
// ends it into the diagnostics, and from then on every line is written
// through: slower, but nothing is lost.
func (b *bufferedWriter) run() {
	defer close(b.done)
	defer func() {
		b.mu.Lock()
		b.direct = true
		b.mu.Unlock()
		b.Flush()
	}()
	defer diag.Recover("log flusher")
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-b.kick:
		case <-b.stop:
			return
		}
		t.Reset(b.every)
		select {
		case <-t.C:
		case <-b.stop:
			t.Stop()
			return
		}
		b.Flush()
	}
}

// Close flushes and stops the flusher; later writes go straight through.
func (b *bufferedWriter) Close() {
	b.stopOnce.Do(func() { close(b.stop) })
	b.startOnce.Do(func() { // never started (a line racing Close may still be in)
		b.mu.Lock()
		b.direct = true
		b.mu.Unlock()
		b.Flush()
		close(b.done)
	})
	<-b.done
}
