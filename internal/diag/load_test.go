package diag

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	crashed := life{pid: 777, start: at(time.Hour), events: []map[string]any{ev(EvInstalled, at(time.Hour))}, crash: crashPanic}
	lives := []life{
		{pid: 2026, start: at(0)}, // a pid that is also a prefix of every id
		{pid: 778, start: at(2 * time.Hour), raw: func() *string {
			s := `{"event":"first-line","t":"2026-11-27T02:00:00Z","pid":778}` + "\nnot json\n"
			return &s
		}()},
		crashed,
		{pid: 777, start: at(3 * time.Hour)}, // pid reused: the newest wins
	}
	writeLives(t, state, lives...)
	o := LoadOptions{Alive: aliveSet()}
	for _, c := range []struct {
		id, want string
		events   int
	}{
		{"2026", lives[0].id(), 1},
		{"777", lives[3].id(), 1},
		{crashed.id(), crashed.id(), 2},
		{crashed.id()[:len(crashed.id())-2], crashed.id(), 2},
		{"778", lives[1].id(), 2},
	} {
		lt, err := Find(state, c.id, o)
		if err != nil {
			t.Errorf("Find(%q): %v", c.id, err)
			continue
		}
		if lt.ID != c.want || len(lt.Events) != c.events {
			t.Errorf("Find(%q) = %s with %d events, want %s with %d", c.id, lt.ID, len(lt.Events), c.want, c.events)
		}
	}
	lt, err := Find(state, crashed.id(), o)
	if err != nil || !strings.Contains(lt.Crash, "panic: test unrecovered panic") || lt.Verdict != Crash {
		t.Errorf("crash output: %v %+v", err, lt)
	}
	lt, err = Find(state, "778", o)
	if err != nil || !bytes.Contains(lt.Events[1], []byte(`"unparsed":"not json"`)) {
		t.Errorf("unparsed line: %v %s", err, lt.Events)
	}
	if _, err := Find(state, "2026112", o); err == nil || !strings.Contains(err.Error(), "matches 4 lifetimes") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := Find(state, "nosuch", o); err == nil || !strings.Contains(err.Error(), "no lifetime") {
		t.Errorf("no match: %v", err)
	}
	if _, err := Find(t.TempDir(), "1", o); err == nil {
		t.Errorf("empty state dir: no error")
	}
}

func TestLoadNoDir(t *testing.T) {
	t.Parallel()
	lts, err := Load(filepath.Join(t.TempDir(), "nothing"), LoadOptions{})
	if err != nil || lts != nil {
		t.Errorf("Load of a missing dir = %v, %v", lts, err)
	}
}
