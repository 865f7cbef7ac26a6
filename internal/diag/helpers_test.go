package diag

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// Helpers the diag tests share: records written as an older or newer
// version would write them, key by key.

var base = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func idOf(start time.Time, pid int) string {
	return start.UTC().Format("20060102T150405.000000Z") + "-" + strconv.Itoa(pid)
}

// ev is one record event: name, time, then key/value pairs.
func ev(name string, t time.Time, kv ...any) map[string]any {
	e := map[string]any{"event": name, "t": t}
	for i := 0; i+1 < len(kv); i += 2 {
		e[kv[i].(string)] = kv[i+1]
	}
	return e
}

// life is a lifetime record to write: the first-line marker at start
// (unless noFirst), then events.
type life struct {
	pid     int
	start   time.Time
	ticks   int
	noFirst bool
	events  []map[string]any
	crash   string
	raw     *string // written verbatim instead of events
}

func (l life) id() string { return idOf(l.start, l.pid) }

func writeLives(t *testing.T, state string, lives ...life) {
	t.Helper()
	dir := string(paths.State(state).Lifetimes())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, l := range lives {
		var b bytes.Buffer
		if l.raw != nil {
			b.WriteString(*l.raw)
		} else {
			evs := l.events
			if !l.noFirst {
				ticks := l.ticks
				if ticks == 0 {
					ticks = 100
				}
				evs = append([]map[string]any{ev(EvFirstLine, l.start, "pid", l.pid, "ppid", 1, "version", "1.2.3", "start_ticks", ticks)}, evs...)
			}
			for _, e := range evs {
				line, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(append(line, '\n'))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, l.id()+".jsonl"), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if l.crash != "" {
			if err := os.WriteFile(filepath.Join(dir, l.id()+".crash"), []byte(l.crash), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// aliveSet: these pids run, as the process that wrote start_ticks 100.
func aliveSet(pids ...int) func(int, uint64) bool {
	return func(pid int, ticks uint64) bool {
		for _, p := range pids {
			if p == pid {
				return ticks == 0 || ticks == 100
			}
		}
		return false
	}
}
