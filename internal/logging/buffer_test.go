package logging

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/termux-webui/webui/internal/paths"
)

func readLog(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(paths.Log(dir).Server())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// An info line waits in memory until the flush interval; Close writes it.
func TestInfoLinesBufferedUntilClose(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 1, MaxFiles: 1, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("first")
	lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/a", Status: 200})
	if got := readLog(t, dir); strings.Contains(got, "first") {
		t.Fatalf("an hour's flush interval, yet the line is already written: %q", got)
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLog(t, dir)
	if !strings.Contains(got, `"msg":"first"`) || !strings.Contains(got, `"path":"/a"`) {
		t.Fatalf("after Close: %q", got)
	}
	// After Close nothing is buffered any more.
	lg.Info("late")
	if !strings.Contains(readLog(t, dir), "late") {
		t.Fatal("a line after Close was not written through")
	}
}

// The flusher writes lines out on its own, without Close.
func TestPeriodicFlush(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 1, MaxFiles: 1, FlushEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	for i, msg := range []string{"one", "two"} { // the second after a flush: the flusher runs again
		lg.Info(msg)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(readLog(t, dir), msg) {
			if time.Now().After(deadline) {
				t.Fatalf("line %d never flushed: %q", i, readLog(t, dir))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// Warnings go out at once, after the lines buffered before them.
func TestWarningsWriteThrough(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 1, MaxFiles: 1, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	lg.Info("before")
	lg.Warn("trouble")
	got := readLog(t, dir)
	if i, j := strings.Index(got, "before"), strings.Index(got, "trouble"); i < 0 || j < i {
		t.Fatalf("file %q", got)
	}
	lg.Info("buffered")
	lg.Flush()
	if !strings.Contains(readLog(t, dir), "buffered") {
		t.Fatal("Flush did not write the buffered line")
	}
}

// A burst larger than the buffer is written without waiting, in order.
func TestBurstKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 10, MaxFiles: 1, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3 * flushAt / 64 // lines of about 75 bytes: three buffers and more
	for i := 0; i < n; i++ {
		lg.WithField("i", i).Info("burst")
	}
	if len(readLog(t, dir)) < flushAt {
		t.Fatal("a full buffer was not written out")
	}
	lg.Close()
	lines := strings.Split(strings.TrimSpace(readLog(t, dir)), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, `{"i":`+strconv.Itoa(i)+",") {
			t.Fatalf("line %d: %s", i, l)
		}
	}
}

// Many writers against a busy flusher: every line arrives whole, once.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 10, MaxFiles: 1, FlushEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 500
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < each; i++ {
				lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/w" + strconv.Itoa(w) + "/" + strconv.Itoa(i), Status: 200})
			}
		}()
	}
	for w := 0; w < writers; w++ {
		<-done
	}
	lg.Close()
	got := readLog(t, dir)
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			if n := strings.Count(got, `"path":"/w`+strconv.Itoa(w)+"/"+strconv.Itoa(i)+`"`); n != 1 {
				t.Fatalf("writer %d line %d: %d copies", w, i, n)
			}
		}
	}
}

type panicWriter struct{ n int }

func (w *panicWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n == 1 {
		panic("disk gone")
	}
	return len(p), nil
}

// A flusher that panics is recorded, and the lines after it are written
// through instead of waiting for a flusher that is gone.
func TestFlusherPanicWritesThrough(t *testing.T) {
	w := &panicWriter{}
	b := newBufferedWriter(w, time.Millisecond)
	_, _ = b.Write([]byte("one\n"))
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the flusher did not end after its panic")
	}
	n := w.n
	_, _ = b.Write([]byte("two\n"))
	if w.n != n+1 {
		t.Fatalf("after the flusher's panic a line was not written through (%d writes, then %d)", n, w.n)
	}
	b.Close()
}

// A writer that never buffered a line starts no goroutine, and closes.
func TestIdleWriterCloses(t *testing.T) {
	var out bytes.Buffer
	b := newBufferedWriter(&out, time.Hour)
	b.Close()
	if _, err := b.Write([]byte("after\n")); err != nil || out.String() != "after\n" {
		t.Fatalf("write after close: %v %q", err, out.String())
	}
}

// A busy spell's buffer is reused while it stays busy, and let go once
// the lines thin out: an idle server does not hold a burst's memory.
func TestBurstBufferLetGo(t *testing.T) {
	var out bytes.Buffer
	b := newBufferedWriter(&out, time.Hour)
	defer b.Close()
	line := bytes.Repeat([]byte("x"), 199)
	line = append(line, '\n')
	for i := 0; i < (512<<10)/len(line); i++ {
		b.Write(line)
	}
	b.Flush()
	b.Write(line)
	b.Flush() // the burst's buffer is the one just written: reused
	b.mu.Lock()
	busy := cap(b.buf) + cap(b.spare)
	b.mu.Unlock()
	if busy < 512<<10 {
		t.Fatalf("after a busy flush %d bytes kept, want the burst's buffer for reuse", busy)
	}
	for i := 0; i < 3; i++ { // buffers swap: each gets a quiet flush
		b.Write(line)
		b.Flush()
	}
	b.mu.Lock()
	quiet := cap(b.buf) + cap(b.spare)
	b.mu.Unlock()
	if quiet > keepAtLeast {
		t.Errorf("after quiet flushes %d bytes kept, want at most %d", quiet, keepAtLeast)
	}
	if got, want := out.Len(), ((512<<10)/len(line)+4)*len(line); got != want {
		t.Errorf("wrote %d bytes, want %d", got, want)
	}
}

// writeLines cuts at line ends, never above writeChunk unless one line is
// longer, and writes every byte once, in order.
func TestWriteLinesChunks(t *testing.T) {
	short := bytes.Repeat([]byte("s"), 99)
	var in []byte
	for len(in) < 3*writeChunk {
		in = append(append(in, short...), '\n')
	}
	in = append(append(in, bytes.Repeat([]byte("L"), writeChunk+5)...), '\n') // a line longer than a chunk
	in = append(in, "tail without a newline"...)
	var chunks [][]byte
	writeLines(writerFunc(func(p []byte) (int, error) { chunks = append(chunks, append([]byte(nil), p...)); return len(p), nil }), in)
	if got := bytes.Join(chunks, nil); !bytes.Equal(got, in) {
		t.Fatalf("wrote %d bytes, not the %d given", len(got), len(in))
	}
	for i, c := range chunks[:len(chunks)-1] {
		if c[len(c)-1] != '\n' {
			t.Errorf("chunk %d ends inside a line", i)
		}
		if len(c) > writeChunk && bytes.Count(c, []byte("\n")) != 1 {
			t.Errorf("chunk %d: %d bytes over %d lines, above the %d bound", i, len(c), bytes.Count(c, []byte("\n")), writeChunk)
		}
	}
}

// A burst larger than the largest log file is written whole, across
// rotations: the rotating writer refuses a single write above its limit.
func TestBurstAboveMaxFileSizeLosesNothing(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 1, MaxFiles: 10, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30000 // about 2.5 MiB of access lines, buffered at once
	for i := 0; i < n; i++ {
		lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/p/" + strconv.Itoa(i), Status: 200, Remote: "127.0.0.1:40000"})
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if p, _, ok := strings.Cut(l[strings.Index(l, `"path":"`)+8:], `"`); ok {
				seen[p] = true
			}
		}
	}
	if len(files) < 3 || len(seen) != n {
		t.Fatalf("%d files, %d distinct lines; want 3 files or more and all %d lines", len(files), len(seen), n)
	}
}
