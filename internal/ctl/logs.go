package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/restart/schedule"
)

// LogOptions tune Logs.
type LogOptions struct {
	Lines  int  // print the last Lines lines first
	Follow bool // then keep printing what is appended, across rotation
	// Poll is how often a follow looks for more (250ms).
	Poll time.Duration
}

// Logs prints the last lines of the JSON log file at path through emit and,
// with Follow, what is written afterwards until ctx ends. It follows across
// rotation: when lumberjack renames the file and starts a new one (or the
// file is truncated), it finishes the old file and reopens the new.
func Logs(ctx context.Context, path string, o LogOptions, emit func(line string)) error {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	f, err := os.Open(path)
	for err != nil {
		if !o.Follow || !notExist(err) {
			return fmt.Errorf("log: %w", err)
		}
		if err := schedule.Sleep(ctx, o.Poll); err != nil {
			return nil
		}
		f, err = os.Open(path)
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	end := st.Size()
	for _, line := range lastLines(f, end, o.Lines) {
		emit(line)
	}
	if !o.Follow {
		return nil
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("log: %w", err)
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
			// Between lumberjack's rename and its new file: look again.
		case !os.SameFile(cur, pst):
			drain() // the last writes to the old file
			nf, err := os.Open(path)
			if err != nil {
				continue
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

// lastLines returns the last n complete lines of f before end, reading
// backwards in blocks so a large file costs only what is printed.
func lastLines(f *os.File, end int64, n int) []string {
	if n <= 0 || end <= 0 {
		return nil
	}
	const block = 32 << 10
	var data []byte
	pos := end
	for pos > 0 && bytes.Count(data, []byte{'\n'}) <= n {
		size := int64(block)
		if pos < size {
			size = pos
		}
		pos -= size
		chunk := make([]byte, size)
		if _, err := f.ReadAt(chunk, pos); err != nil && err != io.EOF {
			return nil
		}
		data = append(chunk, data...)
	}
	text := string(data)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i] // an unfinished last line waits for its newline
	} else {
		return nil
	}
	lines := strings.Split(text, "\n")
	if pos > 0 {
		lines = lines[1:] // the first one may be cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Render turns one JSON log line into "time level msg key=val ...". A line
// that is not a JSON object comes back as it is.
func Render(line string) string {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if d.Decode(&m) != nil || m == nil {
		return line
	}
	var b strings.Builder
	if t, ok := m["time"].(string); ok {
		if pt, err := time.Parse(time.RFC3339Nano, t); err == nil {
			t = pt.Local().Format("2006-01-02 15:04:05.000")
		}
		b.WriteString(t)
		b.WriteByte(' ')
	}
	lvl, _ := m["level"].(string)
	fmt.Fprintf(&b, "%-5s ", strings.ToUpper(lvl))
	msg, _ := m["msg"].(string)
	b.WriteString(msg)
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case "time", "level", "msg":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(value(m[k]))
	}
	return b.String()
}

func value(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return s
}
