package diag

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type want struct {
	verdict string
	summary []string // substrings
	reason  string
	hint    string // substring
	lived   string // prefix of Lived, when set
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	running := life{pid: 100, start: at(0), events: []map[string]any{
		ev(EvInstalled, at(time.Millisecond)), ev(EvReady, at(2*time.Millisecond), "addr", "127.0.0.1:8787")}}
	ready := func(pid int, start time.Time, more ...map[string]any) life {
		return life{pid: pid, start: start, events: append([]map[string]any{
			ev(EvInstalled, start.Add(time.Millisecond)), ev(EvReady, start.Add(2*time.Millisecond), "addr", "127.0.0.1:8787")}, more...)}
	}
	// A delayed restart: the old lifetime hands over and exits, the helper
	// spawns pid 201 at +10s.
	oldDelayed := ready(200, at(0),
		ev(EvPreRestart, at(5*time.Second), "strategy", "delayed", "pid", 200, "helper_pid", 300),
		ev(EvExit, at(5*time.Second+time.Millisecond), "reason", "SIGTERM", "signal", 15, "intent", "restart", "code", 0),
		ev(EvHelper, at(5*time.Second+2*time.Millisecond), "step", "started", "helper_pid", 300, "old_pid", 200),
		ev(EvHelper, at(10*time.Second), "step", "spawned", "helper_pid", 300, "pid", 201, "attempt", 1))
	oldDelayedKilled := oldDelayed
	oldDelayedKilled.events = append(append([]map[string]any{}, oldDelayed.events...),
		ev(EvHelper, at(11*time.Second), "step", "killed", "helper_pid", 300, "pid", 201, "signal", 9, "detail", "pid 201 killed by SIGKILL 1s after it started"))
	// An exec restart keeps pid 500.
	execOld := func(more ...map[string]any) life {
		return ready(500, at(0), append([]map[string]any{ev(EvPreRestart, at(time.Minute), "strategy", "exec", "pid", 500)}, more...)...)
	}
	execNew := ready(500, at(time.Minute+50*time.Millisecond))
	execNew.ticks = 100 // exec keeps the start time

	cases := []struct {
		name    string
		lives   []life
		alive   []int
		android bool
		want    map[string]want // by id; "~pid" for a synthesized one
		n       int             // lifetimes expected (0: len(want))
	}{
		{name: "running", lives: []life{running}, alive: []int{100},
			want: map[string]want{running.id(): {verdict: Running, summary: []string{"still running"}}}},
		{name: "pid reused by another process", lives: []life{{pid: 100, start: at(0), ticks: 999, events: running.events}}, alive: []int{100},
			want: map[string]want{idOf(at(0), 100): {verdict: KilledUntraced}}},
		{name: "clean exit with intent", lives: []life{ready(101, at(0), ev(EvExit, at(time.Hour), "reason", "SIGTERM", "signal", 15, "intent", "ctl stop", "code", 0))},
			want: map[string]want{idOf(at(0), 101): {verdict: CleanExit, summary: []string{"clean exit: ctl stop (SIGTERM), exit 0"}, reason: "ctl stop", lived: "1h0m0s"}}},
		{name: "clean exit, no signal", lives: []life{ready(102, at(0), ev(EvExit, at(time.Hour), "reason", "context done", "code", 0))},
			want: map[string]want{idOf(at(0), 102): {verdict: CleanExit, summary: []string{"clean exit: context done, exit 0"}}}},
		{name: "signal", lives: []life{ready(103, at(0), ev(EvExit, at(time.Hour), "reason", "SIGTERM", "signal", 15, "code", 0))}, alive: []int{103},
			want: map[string]want{idOf(at(0), 103): {verdict: CaughtSignal, summary: []string{"caught signal 15 (SIGTERM)"}, reason: "SIGTERM"}}},
		{name: "crash", lives: []life{func() life { l := ready(104, at(0)); l.crash = crashPanic; return l }()},
			want: map[string]want{idOf(at(0), 104): {verdict: Crash, summary: []string{"crash: panic: test unrecovered panic at ", "testhooks/on.go:74"}}}},
		{name: "fatal error", lives: []life{func() life { l := ready(105, at(0)); l.crash = crashFatalFile; return l }()},
			want: map[string]want{idOf(at(0), 105): {verdict: Crash, summary: []string{"concurrent map", "testhooks/on.go:83"}}}},
		{name: "empty crash file is no crash", lives: []life{func() life { l := ready(106, at(0)); l.crash = ""; return l }()},
			want: map[string]want{idOf(at(0), 106): {verdict: KilledUntraced}}},
		{name: "died in startup: first line only", lives: []life{{pid: 107, start: at(0)}},
			want: map[string]want{idOf(at(0), 107): {verdict: DiedInStartup, summary: []string{"before the signal trap was installed"}}}},
		{name: "died in startup: config error", lives: []life{{pid: 108, start: at(0), events: []map[string]any{
			ev(EvExit, at(time.Millisecond), "reason", ReasonConfigError, "detail", `webui.conf:3: unknown key "adr"`, "code", 2)}}},
			want: map[string]want{idOf(at(0), 108): {verdict: DiedInStartup, summary: []string{`config error: webui.conf:3: unknown key "adr"`}, reason: string(ReasonConfigError)}}},
		{name: "died before listening: never ready", lives: []life{{pid: 109, start: at(0), events: []map[string]any{ev(EvInstalled, at(time.Millisecond))}}},
			want: map[string]want{idOf(at(0), 109): {verdict: DiedBeforeListening, summary: []string{"never became ready"}}}},
		{name: "died before listening: port in use", lives: []life{{pid: 110, start: at(0), events: []map[string]any{ev(EvInstalled, at(time.Millisecond)),
			ev(EvExit, at(2*time.Millisecond), "reason", ReasonCannotListen, "detail", "cannot listen on 127.0.0.1:8787: address already in use", "code", 3)}}},
			want: map[string]want{idOf(at(0), 110): {verdict: DiedBeforeListening, summary: []string{"address already in use"}}}},
		{name: "killed untraced", lives: []life{ready(111, at(0))},
			want: map[string]want{idOf(at(0), 111): {verdict: KilledUntraced, summary: []string{"killed without a trace"}, lived: "≥ "}}},
		{name: "killed untraced on Android", lives: []life{ready(112, at(0))}, android: true,
			want: map[string]want{idOf(at(0), 112): {verdict: KilledUntraced, hint: "phantom process killer"}}},
		{name: "restart window: killed before its first line", lives: []life{oldDelayed},
			want: map[string]want{
				oldDelayed.id(): {verdict: CleanExit, summary: []string{"restart (SIGTERM)"}, reason: "restart"},
				"~201":          {verdict: KilledInRestartWindow, summary: []string{"before its first instruction", "restart helper spawned it"}, hint: "restart_delay"}}},
		{name: "restart window: killed with an empty record", lives: []life{oldDelayed, {pid: 201, start: at(10 * time.Second), raw: str("")}},
			want: map[string]want{
				idOf(at(10*time.Second), 201): {verdict: KilledInRestartWindow, summary: []string{"empty"}, hint: "restart_delay"}}, n: 2},
		{name: "empty record, no restart started it", lives: []life{{pid: 202, start: at(0), raw: str("")}},
			want: map[string]want{idOf(at(0), 202): {verdict: CorruptRecord}}},
		{name: "restart window: spawned process still starting", lives: []life{oldDelayed}, alive: []int{201},
			want: map[string]want{oldDelayed.id(): {verdict: CleanExit}}},
		{name: "restart window: helper saw it killed, no first line", lives: []life{oldDelayedKilled}, alive: []int{201}, // pid reused since
			want: map[string]want{
				oldDelayed.id(): {verdict: CleanExit},
				"~201":          {verdict: KilledInRestartWindow, summary: []string{"never wrote its first-line marker"}}}},
		{name: "restart window: killed after its first line, before ready", lives: []life{oldDelayed, {pid: 201, start: at(10*time.Second + time.Millisecond)}},
			want: map[string]want{
				oldDelayed.id(): {verdict: CleanExit},
				idOf(at(10*time.Second+time.Millisecond), 201): {verdict: KilledInRestartWindow, summary: []string{"before it was ready"}, hint: "cgroup"}}},
		{name: "restart window: helper saw it killed after ready", lives: []life{oldDelayedKilled, ready(201, at(10*time.Second+time.Millisecond))},
			want: map[string]want{
				oldDelayed.id(): {verdict: CleanExit},
				idOf(at(10*time.Second+time.Millisecond), 201): {verdict: KilledInRestartWindow, summary: []string{"survival check"}}}},
		{name: "restart window: the pid much later is another story", lives: []life{oldDelayed, {pid: 201, start: at(time.Hour)}},
			want: map[string]want{
				oldDelayed.id():          {verdict: CleanExit},
				idOf(at(time.Hour), 201): {verdict: DiedInStartup},
				// The spawned process itself left no first-line within reach.
				"~201": {verdict: KilledInRestartWindow}}},
		{name: "exec restart without an exit record", lives: []life{execOld(), execNew}, alive: []int{500},
			want: map[string]want{
				execOld().id(): {verdict: CleanExit, summary: []string{"exec restart", execNew.id()}, reason: "restart"},
				execNew.id():   {verdict: Running}}},
		{name: "exec restart with an exit record", lives: []life{execOld(ev(EvExit, at(time.Minute+time.Millisecond), "reason", "restart", "detail", "exec in place (update)", "code", 0)), execNew}, alive: []int{500},
			want: map[string]want{
				execOld().id(): {verdict: CleanExit, summary: []string{"restart", "exec in place (update)"}, reason: "restart"},
				execNew.id():   {verdict: Running}}},
		{name: "exec restart: new image never ran", lives: []life{execOld(ev(EvExit, at(time.Minute+time.Millisecond), "reason", "restart", "code", 0))},
			want: map[string]want{
				execOld().id(): {verdict: CleanExit},
				"~500":         {verdict: KilledInRestartWindow, summary: []string{"exec'd it in place"}}}},
		{name: "exec restart failed and served on", lives: []life{execOld(ev(EvExit, at(time.Minute+time.Millisecond), "reason", "restart", "code", 0),
			ev(EvResumed, at(time.Minute+2*time.Millisecond), "detail", "exec failed"))}, alive: []int{500},
			want: map[string]want{execOld().id(): {verdict: Running}}},
		{name: "corrupt: garbage", lives: []life{{pid: 600, start: at(0), raw: str("\x00\xffgarbage\n")}},
			want: map[string]want{idOf(at(0), 600): {verdict: CorruptRecord, summary: []string{"line 1 is not valid JSON"}}}},
		{name: "corrupt: truncated last line", lives: []life{{pid: 601, start: at(0), raw: str(
			`{"event":"first-line","t":"2026-11-27T00:00:00Z","pid":601}` + "\n" + `{"event":"ready","t":"2026-11-2`)}}, alive: []int{601},
			want: map[string]want{idOf(at(0), 601): {verdict: CorruptRecord, summary: []string{"line 2 is not valid JSON", "truncated"}}}},
		{name: "corrupt: empty", lives: []life{{pid: 602, start: at(0), raw: str("")}},
			want: map[string]want{idOf(at(0), 602): {verdict: CorruptRecord, summary: []string{"empty record"}}}},
		{name: "corrupt: no first line", lives: []life{{pid: 603, start: at(0), noFirst: true, events: []map[string]any{ev(EvReady, at(0))}}},
			want: map[string]want{idOf(at(0), 603): {verdict: CorruptRecord, summary: []string{"no first-line marker"}}}},
		{name: "corrupt: not objects", lives: []life{{pid: 604, start: at(0), raw: str("[1,2]\nnull\n")}},
			want: map[string]want{idOf(at(0), 604): {verdict: CorruptRecord}}},
		{name: "corrupt: oversized", lives: []life{{pid: 605, start: at(0), raw: str(
			`{"event":"first-line","t":"2026-11-27T00:00:00Z","pid":605}` + "\n" + strings.Repeat("y", maxRecordBytes+10) + "\n")}},
			want: map[string]want{idOf(at(0), 605): {verdict: CorruptRecord, summary: []string{"larger than"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			writeLives(t, state, c.lives...)
			lts, err := Load(state, LoadOptions{Android: c.android, Alive: aliveSet(c.alive...)})
			if err != nil {
				t.Fatal(err)
			}
			n := c.n
			if n == 0 {
				n = len(c.want)
			}
			if len(lts) != n {
				t.Errorf("%d lifetimes, want %d: %+v", len(lts), n, lts)
			}
			for i := 1; i < len(lts); i++ {
				if lts[i].StartedAt.After(lts[i-1].StartedAt) {
					t.Errorf("not newest first: %s before %s", lts[i-1].ID, lts[i].ID)
				}
			}
			for id, w := range c.want {
				var got *Lifetime
				for i := range lts {
					if lts[i].ID == id || strings.HasPrefix(id, "~") && strings.HasSuffix(lts[i].ID, "-"+id[1:]+"~") {
						got = &lts[i]
					}
				}
				if got == nil {
					t.Errorf("no lifetime %s in %+v", id, lts)
					continue
				}
				if got.Verdict != w.verdict {
					t.Errorf("%s: verdict %q, want %q (%s; %v)", id, got.Verdict, w.verdict, got.Summary, got.Evidence)
				}
				for _, s := range w.summary {
					if !strings.Contains(got.Summary, s) {
						t.Errorf("%s: summary %q lacks %q", id, got.Summary, s)
					}
				}
				if w.reason != "" && got.Reason != w.reason {
					t.Errorf("%s: reason %q, want %q", id, got.Reason, w.reason)
				}
				if w.lived != "" && !strings.HasPrefix(got.Lived, w.lived) {
					t.Errorf("%s: lived %q (at least: %v), want %q...", id, got.Lived, got.LivedAtLeast, w.lived)
				}
				if !strings.Contains(got.Hint, w.hint) {
					t.Errorf("%s: hint %q lacks %q", id, got.Hint, w.hint)
				}
				if got.Summary == "" || got.Evidence == nil {
					t.Errorf("%s: no summary or evidence: %+v", id, got)
				}
				if strings.HasSuffix(got.ID, "~") && (got.Record != "" || len(got.Evidence) < 2) {
					t.Errorf("%s: synthesized lifetime: %+v", id, got)
				}
			}
		})
	}
}

// The JSON that scripts read: the documented verdicts and field names.
func TestLifetimeJSON(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	l := life{pid: 42, start: at(0), events: []map[string]any{ev(EvInstalled, at(time.Millisecond)), ev(EvReady, at(2*time.Millisecond), "addr", "127.0.0.1:1"),
		ev(EvPanic, at(time.Second), "where", "x", "value", "boom", "stack", "goroutine 1"),
		ev(EvSignal, at(2*time.Second), "signal", 10, "name", "SIGUSR1"),
		ev(EvExit, at(time.Minute), "reason", "SIGTERM", "signal", 15, "code", 0)}}
	writeLives(t, state, l)
	lts, err := Load(state, LoadOptions{Alive: aliveSet()})
	if err != nil || len(lts) != 1 {
		t.Fatalf("%v %+v", err, lts)
	}
	b, _ := json.Marshal(lts)
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if g["id"] != l.id() || g["pid"] != 42.0 || g["verdict"] != "signal" || g["version"] != "1.2.3" || g["addr"] != "127.0.0.1:1" ||
		g["panics"] != 1.0 || g["lived_s"] != 60.0 || g["ended_at"] == nil || g["started_at"] == nil || g["record"] == nil {
		t.Errorf("json: %s", b)
	}
	if s, _ := g["signals"].([]any); len(s) != 1 || s[0] != "SIGUSR1" {
		t.Errorf("signals: %v", g["signals"])
	}
	if _, ok := g["events"]; ok {
		t.Errorf("events in the list form: %s", b)
	}
}
