package diag

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Records that an older version wrote (maps marshalled key by key, zero
// values included, fields this version does not know) read as before.
func TestOldShapeRecords(t *testing.T) {
	t.Parallel()
	lts, err := Load("testdata/old-shape", LoadOptions{Alive: aliveSet()})
	if err != nil {
		t.Fatal(err)
	}
	if len(lts) != 2 {
		t.Fatalf("%d lifetimes, want 2 (no synthetic one for the spawned pid): %+v", len(lts), lts)
	}
	next, old := lts[0], lts[1]
	if old.PID != 4242 || old.PPID != 1 || old.Version != "0.9.0" || old.RestartOf != "20261126T235900.000000Z-4000" ||
		old.Verdict != CleanExit || old.Reason != string(ReasonRestart) || old.Addr != "127.0.0.1:8787" ||
		!slices.Equal(old.Signals, []string{"SIGPIPE", "SIGUSR1"}) || old.LivedS != 61 ||
		len(old.Freezes) != 1 || old.Freezes[0].Kind != FreezeKindSleep || old.Freezes[0].DurationS != 42.5 {
		t.Errorf("old lifetime: %+v", old)
	}
	if !strings.Contains(old.Summary, "clean exit: restart: delayed") {
		t.Errorf("old summary: %s", old.Summary)
	}
	if next.PID != 4400 || next.RestartOf != old.ID || next.Verdict != CleanExit || next.Reason != "ctl stop" ||
		next.Summary != "clean exit: ctl stop (SIGTERM), exit 0" {
		t.Errorf("next lifetime: %+v", next)
	}
	// The typed fields hold what the old writers wrote.
	rec := readRecord(old.Record, old.ID)
	var sawUpdate, sawSnapshot bool
	for _, e := range rec.events {
		switch {
		case e.Event == EvUpdate:
			sawUpdate = e.Step == "updated" && e.From == "0.9.0" && e.To == "1.0.0" && e.Restart != nil && !*e.Restart
		case e.Event == EvSignal && e.Name == "SIGUSR1":
			sawSnapshot = e.Goroutines == 9 && e.OpenFDs == 12 && e.RSSBytes == 1<<20 && e.Inflight != nil && strings.HasPrefix(e.Stacks, "goroutine 1")
		}
	}
	if !sawUpdate || !sawSnapshot {
		t.Errorf("typed events: update %v, snapshot %v: %+v", sawUpdate, sawSnapshot, rec.events)
	}
}

// The JSON names are the record format: the readers of older versions
// (an update rolled back) read what this version writes.
func TestEventFieldNames(t *testing.T) {
	var ev Event
	v := reflect.ValueOf(&ev).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Uint64:
			f.SetUint(1)
		case reflect.Float64:
			f.SetFloat(1)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Interface:
			f.Set(reflect.ValueOf("x"))
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(time.Unix(1, 0)))
		default:
			t.Fatalf("field %s: kind %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"action", "addr", "argv", "at", "attempt", "attempts", "by", "cap_s", "code", "count", "crash_output",
		"deadline", "delay_s", "detail", "duration_s", "early_error", "error", "event", "exe", "from", "goroutines",
		"healthy_after_s", "helper_pid", "hint", "inflight", "intent", "kind", "late", "listen_fd", "method", "name", "note",
		"old_pid", "open_fds", "pid", "port", "ppid", "prev", "reason", "restart", "restart_of", "rss_bytes", "schedule",
		"serving_pid", "signal", "since_old_exit_s", "size", "stack", "stacks", "start_ticks", "step", "stopped",
		"strace", "strategy", "survive_s", "t", "tail", "to", "took_s", "uptime_s", "url", "value", "verdict", "version", "where", "while", "why"}
	if !slices.Equal(got, want) {
		t.Errorf("record field names:\n got %q\nwant %q", got, want)
	}
	var empty map[string]any
	b, _ = json.Marshal(Event{Event: EvReady, T: time.Unix(1, 0).UTC()})
	if err := json.Unmarshal(b, &empty); err != nil || len(empty) != 2 {
		t.Errorf("an event writes only its own fields: %s", b)
	}
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line, err string
		check     func(Event) bool
	}{
		{line: `{"event":"exit","t":"2026-11-27T00:00:00Z","reason":"SIGTERM","signal":15,"code":0}`,
			check: func(e Event) bool {
				return e.Event == EvExit && e.Signal == 15 && e.Reason == "SIGTERM" && !e.T.IsZero()
			}},
		{line: `{"event":"first-line","pid":"x"}`, err: `"pid" has the wrong type (string)`},
		{line: `{"event":"first-line","pid":null}`, err: `"pid" has the wrong type (<nil>)`},
		{line: `{"event":7}`, err: `"event" has the wrong type (float64)`},
		{line: `{"event":"ready","t":{"a":1}}`, err: `"t" has the wrong type (map[string]interface {})`},
		{line: `[1,2]`, err: "not valid JSON"},
		{line: `"a string"`, err: "not valid JSON"},
		{line: `{"event":"ready`, err: "not valid JSON"},
		{line: `null`, check: func(e Event) bool { return e.Event == "" }},
		// Fields the verdicts do not rely on may be odd: the event counts.
		{line: `{"event":"signal","name":"SIGUSR1","stacks":5,"uptime_s":"long","inflight":null}`,
			check: func(e Event) bool {
				return e.Event == EvSignal && e.Name == "SIGUSR1" && e.Stacks == "" && e.UptimeS == 0
			}},
		{line: `{"event":"ready","t":"yesterday","addr":"127.0.0.1:1"}`,
			check: func(e Event) bool { return e.Event == EvReady && e.Addr == "127.0.0.1:1" && e.T.IsZero() }},
		{line: `{"event":"freeze","kind":"freeze","at":"soon","duration_s":3}`,
			check: func(e Event) bool { _, ok := parseFreeze(&e); return e.Kind == FreezeKindFreeze && !ok }},
	} {
		ev, err := parseEvent([]byte(c.line))
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: error %v, want %s", c.line, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.line, err)
		case c.check != nil && !c.check(ev):
			t.Errorf("%s: read %+v", c.line, ev)
		}
	}
}

// What the Recorder writes reads back as the same event.
func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	in := Event{Event: EvPreRestart, T: time.Date(2026, 11, 27, 1, 2, 3, 456789000, time.UTC), PID: 9, Strategy: "delayed",
		Reason: "update", By: "watchdog", DelayS: 15, Schedule: "15s", Restart: new(false), Stopped: []int{3}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := parseEvent(b)
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Errorf("round trip %s:\n got %+v (%v)\nwant %+v", b, out, err, in)
	}
}

// parseEvent accepts exactly the lines the map-based reader of older
// versions accepted, and what it reads writes back readable.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{"event":"exit","code":0,"signal":15}`, `{"pid":"x"}`, `{"pid":null}`, `null`, `[1]`,
		`{"event":"ready","t":"2026-11-27T00:00:00Z","addr":"a"}`, `{"t":"x","stacks":1}`, `{"restart":false,"stopped":[1]}`, `{"Event":"exit"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parseEvent(line)
		var m map[string]any
		oldOK := json.Unmarshal(line, &m) == nil && wrongType(m) == ""
		if (err == nil) != oldOK {
			t.Fatalf("%q: parseEvent error %v, the old reader accepted it: %v", line, err, oldOK)
		}
		if err != nil {
			return
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if _, err := parseEvent(b); err != nil {
			t.Fatalf("%q read as %s, which does not read back: %v", line, b, err)
		}
	})
}
