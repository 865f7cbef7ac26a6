package apps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// Log defaults: rotate at 10 MiB, keep 3 old files (NAME.log.1 newest).
const (
	DefaultLogMaxBytes = 10 << 20
	DefaultLogKeep     = 3
)

// LogFile is the app's one log: its stdout and stderr both, in the order
// written (fds 1 and 2 of the app are the same O_APPEND file).
func (s *Supervisor) LogFile(name string) string {
	return paths.Log(s.cfg.LogDir).AppLog(name)
}

// openLog opens the app's log for its fds 1 and 2. O_APPEND: every write
// lands at the end, whoever else writes or truncates, so rotation by
// copy-then-truncate is safe (see rotate). 0600: logs may carry secrets.
func (s *Supervisor) openLog(name string) (*os.File, error) {
	path := s.LogFile(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// rotate moves a log past max bytes to NAME.log.1 (older ones shift up to
// keep). A running app keeps its fd to NAME.log, so the file cannot be
// renamed away: the app would go on writing into the renamed file. Instead
// it is copied, then truncated in place. That is correct for an O_APPEND
// writer: its next write goes to the new end (offset 0), leaving no hole of
// zeros, which a plain-offset writer would leave. Lines written between the
// copy and the truncate are lost; the window is one copy long.
func rotate(path string, max int64, keep int) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() <= max {
		return nil
	}
	if keep < 1 {
		keep = 1
	}
	for i := keep; i > 1; i-- {
		_ = os.Rename(path+"."+strconv.Itoa(i-1), path+"."+strconv.Itoa(i))
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".1", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("rotate %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Truncate(path, 0)
}

// Logs prints the last n lines of the app's log through emit and, with
// follow, what is appended afterwards until ctx ends (`webui app logs NAME
// [-n N] [-f]`). A follow checks for more every 250 ms, only while somebody
// follows; a rotation's truncate sends it back to the file's start.
func (s *Supervisor) Logs(ctx context.Context, name string, n int, follow bool, emit func(string)) error {
	if _, ok := s.app(name); !ok {
		return fmt.Errorf("no app %q", name)
	}
	path := s.LogFile(name)
	f, err := os.Open(path)
	for err != nil {
		if !follow || !os.IsNotExist(err) {
			return fmt.Errorf("app %s logs: %w", name, err)
		}
		if sleepCtx(ctx, 250*time.Millisecond) != nil {
			return nil
		}
		f, err = os.Open(path)
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	for _, l := range lastLines(f, st.Size(), n) {
		emit(l)
	}
	if !follow {
		return nil
	}
	off := st.Size()
	var partial []byte
	buf := make([]byte, 32<<10)
	for {
		if cur, err := f.Stat(); err == nil && cur.Size() < off {
			off, partial = 0, nil // truncated by a rotation
		}
		for {
			k, err := f.ReadAt(buf, off)
			off += int64(k)
			partial = append(partial, buf[:k]...)
			for {
				i := bytes.IndexByte(partial, '\n')
				if i < 0 {
					break
				}
				emit(string(partial[:i]))
				partial = partial[i+1:]
			}
			if err != nil || k == 0 {
				break
			}
		}
		if sleepCtx(ctx, 250*time.Millisecond) != nil {
			return nil
		}
	}
}

// lastLines returns the last n complete lines of f before end.
func lastLines(f *os.File, end int64, n int) []string {
	if n <= 0 || end <= 0 {
		return nil
	}
	const block = 16 << 10
	var data []byte
	pos := end
	for pos > 0 && bytes.Count(data, []byte{'\n'}) <= n {
		size := min(int64(block), pos)
		pos -= size
		chunk := make([]byte, size)
		if _, err := f.ReadAt(chunk, pos); err != nil && err != io.EOF {
			return nil
		}
		data = append(chunk, data...)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if pos > 0 {
		lines = lines[1:] // may be cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// tail is the last n lines of a log file, for a lifetime record.
func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	lines := lastLines(f, st.Size(), n)
	for i, l := range lines {
		if len(l) > 500 {
			lines[i] = l[:500] + "..."
		}
	}
	return lines
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
