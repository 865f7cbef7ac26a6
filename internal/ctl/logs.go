package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/logfile"
)

// LogOptions tune Logs.
type LogOptions = logfile.Options

// Logs prints the last lines of the JSON log file at path through emit and,
// with Follow, what is written afterwards until ctx ends, across rotation
// (see logfile.Tail).
func Logs(ctx context.Context, path string, o LogOptions, emit func(line string)) error {
	if err := logfile.Tail(ctx, path, o, emit); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
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
