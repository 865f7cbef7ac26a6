// Package logfile reads and trims log files that another process writes:
// the server's log, console.log, a hosted app's log. It prints the last
// lines and follows what is appended across a rotation, and it rotates a
// file whose writer keeps it open. It imports nothing of webui but the
// schedule's sleep.
package logfile

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Options tune Tail.
type Options struct {
	Lines  int  // print the last Lines lines first
	Follow bool // then keep printing what is appended, across rotation
	// Poll is how often a follow looks for more (250ms), only while
	// somebody follows.
	Poll time.Duration
}

// Tail prints the last lines of the file at path through emit and, with
// Follow, what is written afterwards until ctx ends (then it returns nil).
// An unfinished last line waits for its newline. It follows across
// rotation: when the writer renames the file and starts a new one
// (lumberjack), it finishes the old file, prints any file rotated out
// after it meanwhile, and reopens the new; when the file is truncated in
// place (CopyTruncate), it goes back to its start. A follow waits for a
// file that does not exist yet.
func Tail(ctx context.Context, path string, o Options, emit func(line string)) error {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	f, err := os.Open(path)
	for err != nil {
		if !o.Follow || !os.IsNotExist(err) {
			return err
		}
		if schedule.Sleep(ctx, o.Poll) != nil {
			return nil
		}
		f, err = os.Open(path)
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	for _, line := range lastLines(f, 0, end, o.Lines, false) {
		emit(line)
	}
	if !o.Follow {
		return nil
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return err
	}
	var partial []byte
	buf := make([]byte, 64<<10)
	drain := func() {
		for {
			n, err := f.Read(buf)
			if n > 0 {
				partial = append(partial, buf[:n]...)
				for {
					i := bytes.IndexByte(partial, '\n')
					if i < 0 {
						break
					}
					emit(string(partial[:i]))
					partial = partial[i+1:]
				}
			}
			if err != nil || n == 0 {
				return
			}
		}
	}
	for {
		drain()
		if schedule.Sleep(ctx, o.Poll) != nil {
			return nil
		}
		cur, err := f.Stat()
		if err != nil {
			continue
		}
		pst, err := os.Stat(path)
		switch {
		case err != nil:
			// Between the writer's rename and its new file: look again.
		case !os.SameFile(cur, pst):
			drain() // the last writes to the old file
			nf, err := os.Open(path)
			if err != nil {
				continue
			}
			// Two rotations within one poll: the files between the old
			// one and the new one are read whole, oldest first.
			for _, name := range rotatedBetween(path, cur, nf) {
				emitFile(name, emit)
			}
			f.Close()
			f, partial = nf, nil
		default:
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && pst.Size() < off {
				_, _ = f.Seek(0, io.SeekStart) // truncated
				partial = nil
			}
		}
	}
}

// rotatedBetween lists the files that a lumberjack rotation of path (it
// renames path to name-<time>.ext, which sort by time) put after old, the
// file that was open, and before cur, the new path: the ones a follower
// never had open. Nil when old is no longer there to place them after.
func rotatedBetween(path string, old os.FileInfo, cur *os.File) []string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ext) && e.Type().IsRegular() {
			names = append(names, filepath.Join(dir, n))
		}
	}
	sort.Strings(names)
	curSt, err := cur.Stat()
	if err != nil {
		return nil
	}
	for i, n := range names {
		if st, err := os.Stat(n); err == nil && os.SameFile(st, old) {
			var between []string
			for _, m := range names[i+1:] {
				if st, err := os.Stat(m); err == nil && !os.SameFile(st, curSt) {
					between = append(between, m)
				}
			}
			return between
		}
	}
	return nil
}

// emitFile emits every line of a file that is no longer written.
func emitFile(name string, emit func(line string)) {
	b, err := os.ReadFile(name)
	if err != nil {
		return
	}
	text := strings.TrimSuffix(string(b), "\n")
	if text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		emit(line)
	}
}

// Last is the last n lines written to the file at path after offset
// from, an unfinished last line included: what a process said last before
// it died, for its lifetime record or a failed start's error. Nil when the
// file cannot be read.
func Last(path string, from int64, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	return lastLines(f, max(from, 0), st.Size(), n, true)
}

// lastLines returns the last n lines of f between from and end, reading
// backwards in blocks so a large file costs only what is printed. An
// unfinished last line counts only with unfinished.
func lastLines(f *os.File, from, end int64, n int, unfinished bool) []string {
	if n <= 0 || end <= from {
		return nil
	}
	const block = 32 << 10
	var data []byte
	pos := end
	for pos > from && bytes.Count(data, []byte{'\n'}) <= n {
		size := min(int64(block), pos-from)
		pos -= size
		chunk := make([]byte, size)
		if _, err := f.ReadAt(chunk, pos); err != nil && err != io.EOF {
			return nil
		}
		data = append(chunk, data...)
	}
	text := string(data)
	if unfinished {
		text = strings.TrimSuffix(text, "\n")
	} else if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		return nil
	}
	if text == "" && unfinished {
		return nil
	}
	lines := strings.Split(text, "\n")
	if pos > from {
		lines = lines[1:] // the first one may be cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
