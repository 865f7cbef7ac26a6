package diag

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/paths"
)

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

// Real crash output of the webuitest binary (GOTRACEBACK=all, -trimpath):
// an unrecovered panic in a goroutine, and "concurrent map writes", whose
// "fatal error:" line the runtime prints before it starts dying and so
// writes to stderr only, not to the SetCrashOutput file.
const (
	crashPanic = `panic: test unrecovered panic

goroutine 24 [running]:
github.com/termux-webui/webui/internal/testhooks.init.func1.6.1()
	github.com/termux-webui/webui/internal/testhooks/on.go:74 +0x25
created by github.com/termux-webui/webui/internal/testhooks.init.func1.6 in goroutine 22
	github.com/termux-webui/webui/internal/testhooks/on.go:74 +0xbe

goroutine 1 [select]:
github.com/termux-webui/webui/internal/server.Run({0x7fae70, 0xb01020}, {0xbe1a1e803c0, 0xbe1a1e9a1e0, {0x7cf89d, 0x3}, {0xc2ba542e21440bb8, 0x48468, 0xae0260}, 0xbe1a1e83c50, ...})
	github.com/termux-webui/webui/internal/server/run.go:134 +0x8ff
`
	crashFatalFile = `
goroutine 32 [running]:
internal/runtime/maps.fatal({0x7d735b?, 0x0?})
	runtime/panic.go:1181 +0x18
github.com/termux-webui/webui/internal/testhooks.init.func1.7.1()
	github.com/termux-webui/webui/internal/testhooks/on.go:83 +0x5b
created by github.com/termux-webui/webui/internal/testhooks.init.func1.7 in goroutine 23
	github.com/termux-webui/webui/internal/testhooks/on.go:81 +0xce

goroutine 1 [select]:
github.com/termux-webui/webui/internal/server.Run({0x7fae70, 0xb01020}, {0x2c9fc49030e0, 0x2c9fc491c220, {0x7cf89d, 0x3}, {0xc2ba542b766c3abf, 0x3ba23, 0xae0260}, 0x2c9fc491bda0, ...})
	github.com/termux-webui/webui/internal/server/run.go:134 +0x8ff
`
	crashSegv = `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x49e156]

goroutine 1 [running]:
main.main()
	/tmp/segv/main.go:11 +0x16
exit status 2
`
	crashSystem = `panic: assignment to entry in nil map

goroutine 1 gp=0x3ea2ab76a1e0 m=0 mp=0x5256a0 [running]:
panic({0x4839c0?, 0x520aa0?})
	/usr/local/go/src/runtime/panic.go:879 +0x16f fp=0x3ea2ab80ae50 sp=0x3ea2ab80ada0 pc=0x471ecf
runtime.mapassign_faststr(0x3ea2ab804068?, 0x3ea2ab79e738?, {0x48fd30?, 0x3ea2ab76a1e0?})
	/usr/local/go/src/internal/runtime/maps/runtime_faststr.go:265 +0x54d fp=0x3ea2ab80af18 sp=0x3ea2ab80ae50 pc=0x40df2d
main.main()
	/tmp/segv/main.go:5 +0x28 fp=0x3ea2ab80af48 sp=0x3ea2ab80af18 pc=0x47a768
runtime.main()
	/usr/local/go/src/runtime/proc.go:290 +0x2d5 fp=0x3ea2ab80afe0 sp=0x3ea2ab80af48 pc=0x443ef5
`
)

func TestCrashSummary(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text, want string }{
		{"goroutine panic", crashPanic, "panic: test unrecovered panic at github.com/termux-webui/webui/internal/testhooks/on.go:74"},
		{"fatal error, header on stderr only", crashFatalFile, "fatal error: concurrent map access at github.com/termux-webui/webui/internal/testhooks/on.go:83"},
		{"fatal error with header", "fatal error: concurrent map writes\n" + crashFatalFile, "fatal error: concurrent map writes at github.com/termux-webui/webui/internal/testhooks/on.go:83"},
		{"nil pointer", crashSegv, "panic: runtime error: invalid memory address or nil pointer dereference at /tmp/segv/main.go:11"},
		{"runtime frames first, GOTRACEBACK=system", crashSystem, "panic: assignment to entry in nil map at /tmp/segv/main.go:5"},
		{"unknown fatal", "\ngoroutine 7 [running]:\nmain.spin(0x1)\n\t/src/x.go:3 +0x1\n", "fatal error in main.spin at /src/x.go:3"},
		{"garbage", "\x00\x01 not a go crash\n", "crash output present (no panic line found)"},
		{"no newline, huge line", strings.Repeat("x", 2<<20), "crash output present (no panic line found)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "x.crash")
			if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := crashSummary(p); got != c.want {
				t.Errorf("crashSummary = %q\n want %q", got, c.want)
			}
		})
	}
}

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

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestPrune(t *testing.T) {
	t.Parallel()
	// Ten lifetimes, oldest first, each with a record, a crash file and a
	// restart strace log; 1000 bytes a lifetime.
	seed := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		var ids []string
		for i := 0; i < 10; i++ {
			id := idOf(at(time.Duration(i)*time.Minute), 1000+i)
			for suffix, size := range map[string]int{".jsonl": 600, ".crash": 300, ".restart-1.strace": 100} {
				if err := os.WriteFile(filepath.Join(dir, id+suffix), bytes.Repeat([]byte("x"), size), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		for _, other := range []string{"README", "notes.txt"} {
			if err := os.WriteFile(filepath.Join(dir, other), []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(filepath.Join(dir, idOf(at(-time.Hour), 1)+".jsonl"), 0o700); err != nil {
			t.Fatal(err)
		}
		return dir, ids
	}
	cases := []struct {
		name     string
		keep     int
		maxBytes int64
		current  int // index into ids
		kept     []int
	}{
		{"keep newest", 3, 0, 9, []int{7, 8, 9}},
		{"current is never removed", 3, 0, 0, []int{0, 8, 9}},
		{"byte cap", 50, 3500, 9, []int{7, 8, 9}},
		{"byte cap, exact fit", 50, 3000, 9, []int{7, 8, 9}},
		{"byte cap smaller than the current lifetime", 50, 10, 5, []int{5}},
		{"both caps: the tighter wins", 5, 2000, 9, []int{8, 9}},
		{"nothing to do", 10, 10000, 9, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, ids := seed(t)
			if err := Prune(dir, c.keep, c.maxBytes, ids[c.current]); err != nil {
				t.Fatal(err)
			}
			want := []string{"README", idOf(at(-time.Hour), 1) + ".jsonl", "notes.txt"}
			for _, i := range c.kept {
				want = append(want, ids[i]+".crash", ids[i]+".jsonl", ids[i]+".restart-1.strace")
			}
			sort.Strings(want)
			if got := files(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("after Prune:\n got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("missing dir", func(t *testing.T) {
		t.Parallel()
		if err := Prune(filepath.Join(t.TempDir(), "none"), 1, 1, "x"); err != nil {
			t.Errorf("Prune of a missing dir: %v", err)
		}
	})
}

func TestTrapSIGPIPERateLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := NewTrap(&Recorder{f: f, started: time.Now()}, nil)
	for i := 0; i < 1000; i++ {
		tr.handle(syscall.SIGPIPE)
	}
	markers := func() []map[string]any {
		b, _ := os.ReadFile(path)
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["name"] == "SIGPIPE" {
				out = append(out, e)
			}
		}
		return out
	}
	if m := markers(); len(m) != 1 || m[0]["count"] != 1.0 || m[0]["action"] != "ignored" {
		t.Fatalf("markers after 1000 SIGPIPEs: %v", m)
	}
	// A minute later the next one writes a marker with the count since.
	tr.mu.Lock()
	tr.lastPipe = tr.lastPipe.Add(-PipeMarkerEvery)
	tr.mu.Unlock()
	tr.handle(syscall.SIGPIPE)
	if m := markers(); len(m) != 2 || m[1]["count"] != 1000.0 {
		t.Fatalf("markers a minute later: %v", m)
	}
}

func TestIntent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if got := TakeIntent(dir); got != "" {
		t.Errorf("no intent: %q", got)
	}
	if err := WriteIntent(dir, "ctl stop"); err != nil {
		t.Fatal(err)
	}
	if got := TakeIntent(dir); got != "ctl stop" {
		t.Errorf("intent = %q", got)
	}
	if got := TakeIntent(dir); got != "" {
		t.Errorf("intent read twice: %q", got)
	}
	// A stale intent is not about this signal.
	if err := WriteIntent(dir, "update"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(paths.Run(dir).Intent(), old, old); err != nil {
		t.Fatal(err)
	}
	if got := TakeIntent(dir); got != "" {
		t.Errorf("stale intent = %q", got)
	}
	if _, err := os.Stat(paths.Run(dir).Intent()); !os.IsNotExist(err) {
		t.Errorf("stale intent not removed: %v", err)
	}
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	spawned := Event{Event: EvHelper, Step: "spawned", PID: 7}
	if err := AppendEvent(path, spawned); err == nil {
		t.Errorf("appended to a record that does not exist")
	}
	if err := AppendEvent("", spawned); err == nil {
		t.Errorf("appended to no record")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := AppendEvent(path, spawned); err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &e); err != nil || e["event"] != EvHelper || e["step"] != "spawned" || e["pid"] != 7.0 ||
		e["helper_pid"] != float64(os.Getpid()) || e["t"] == nil {
		t.Errorf("helper event %s: %v", b, err)
	}
}

// The Install tests change firstline's globals and the process's crash
// output, so they run one at a time (no t.Parallel).

// installFrom sets up firstline as if it had written its marker in dir,
// and undoes everything Install changes when the test ends.
func installFrom(t *testing.T, dir string) {
	t.Helper()
	rec, recDir, err := firstline.Record, firstline.RecordDir, firstline.Err
	t.Cleanup(func() {
		firstline.Record, firstline.RecordDir, firstline.Err = rec, recDir, err
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		SetPanicReporter(nil)
	})
	if dir == "" {
		firstline.Record, firstline.RecordDir = nil, ""
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, firstline.ID+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(ev(EvFirstLine, firstline.Started, "pid", firstline.PID))
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	firstline.Record, firstline.RecordDir = f, dir
}

func recordEvents(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad line %q", line)
		}
		names = append(names, e["event"].(string))
	}
	return names
}

func TestInstallRelativeStateDir(t *testing.T) {
	state := t.TempDir()
	t.Chdir(state)
	installFrom(t, string(paths.State(".").Lifetimes())) // firstline saw --state-dir .
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r.Ready("127.0.0.1:1")
	r.ExitingSignal(syscall.SIGTERM, "", 0)
	if got := strings.Join(recordEvents(t, r.Path()), " "); got != "first-line installed ready exit" {
		t.Errorf("record events: %s", got)
	}
	if _, err := os.Stat(paths.State(state).Lifetimes().Crash(firstline.ID)); !os.IsNotExist(err) {
		t.Errorf("empty crash file kept after a clean exit: %v", err)
	}
}

func TestInstallMovesRecord(t *testing.T) {
	early := string(paths.State(t.TempDir()).Lifetimes())
	installFrom(t, early)
	state := t.TempDir()
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != paths.State(state).Lifetimes().Record(firstline.ID) {
		t.Errorf("record at %s", r.Path())
	}
	if got := strings.Join(recordEvents(t, r.Path()), " "); got != "first-line installed" {
		t.Errorf("moved record: %s", got)
	}
	if names := files(t, early); len(names) != 0 {
		t.Errorf("early copy left: %v", names)
	}
}

func TestInstallDisabledRemovesRecord(t *testing.T) {
	early := string(paths.State(t.TempDir()).Lifetimes())
	installFrom(t, early)
	r, err := Install(Options{StateDir: filepath.Dir(early), Enabled: false})
	if err != nil || r.Path() != "" || r.ID() != "" {
		t.Fatalf("Install disabled: %v %q", err, r.Path())
	}
	r.Ready("x") // a disabled Recorder does nothing
	r.Signal(syscall.SIGUSR1, "x")
	if names := files(t, early); len(names) != 0 {
		t.Errorf("record kept with diagnostics off: %v", names)
	}
}

func TestInstallLate(t *testing.T) {
	installFrom(t, "")
	state := t.TempDir()
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r.Signal(syscall.SIGUSR1, "stack dump")
	ReportPanic("test", "boom", []byte("goroutine 1 [running]:"))
	b, _ := os.ReadFile(r.Path())
	if !bytes.Contains(b, []byte(`"late":true`)) || !bytes.Contains(b, []byte(`"stacks":"goroutine `)) || !bytes.Contains(b, []byte(`"value":"boom"`)) {
		t.Errorf("late record:\n%.2000s", b)
	}
	lts, err := Load(state, LoadOptions{})
	if err != nil || len(lts) != 1 || lts[0].Verdict != Running || lts[0].Panics != 1 || lts[0].PID != os.Getpid() {
		t.Errorf("Load: %v %+v", err, lts)
	}
}
