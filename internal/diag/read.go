package diag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// Verdicts, for scripts ("verdict" in `webui diagnose --json`).
const (
	Running                = "running"
	CleanExit              = "clean_exit"
	CaughtSignal           = "signal"
	Crash                  = "crash"
	KilledInRestartWindow  = "killed_in_restart_window"
	DiedInStartup          = "died_in_startup"
	DiedBeforeListening    = "died_before_listening"
	KilledUntraced         = "killed_untraced"
	CorruptRecord          = "corrupt_record"
	maxRecordBytes         = 8 << 20
	restartWindowTolerance = 2 * time.Second
)

// Lifetime is what diagnose knows of one process lifetime.
type Lifetime struct {
	ID        string     `json:"id"`
	PID       int        `json:"pid"`
	PPID      int        `json:"ppid,omitempty"`
	Version   string     `json:"version,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	LivedS    float64    `json:"lived_s"`
	// LivedAtLeast: no exit was recorded (SIGKILL), so LivedS only runs to
	// the last event or heartbeat; the lifetime lasted at least that long.
	LivedAtLeast bool `json:"lived_at_least,omitempty"`
	// Lived is LivedS for people: "3m0s", or "≥ 3m0s" when LivedAtLeast.
	Lived     string   `json:"lived"`
	Verdict   string   `json:"verdict"`
	Reason    string   `json:"reason,omitempty"`
	Summary   string   `json:"summary"`
	Evidence  []string `json:"evidence"`
	Hint      string   `json:"hint,omitempty"`
	Addr      string   `json:"addr,omitempty"`
	Panics    int      `json:"panics,omitempty"`
	Signals   []string `json:"signals,omitempty"`
	RestartOf string   `json:"restart_of,omitempty"`
	// Freezes are the freezes and sleeps the lifetime lived through, oldest first.
	Freezes   []Freeze `json:"freezes,omitempty"`
	Record    string   `json:"record,omitempty"`
	CrashFile string   `json:"crash_file,omitempty"`
	// Details, with --id only.
	Events []json.RawMessage `json:"events,omitempty"`
	Crash  string            `json:"crash,omitempty"`

	events    []Event
	startTick uint64
	corrupt   string
	crashHead string
}

// LoadOptions tune verdicts.
type LoadOptions struct {
	// Android adds the phantom-process hint to untraced kills.
	Android bool
	// Alive reports whether pid still runs the lifetime that started at the
	// given start ticks (0 = unknown). Injected for tests.
	Alive func(pid int, startTicks uint64) bool
}

// Load reads every lifetime record in stateDir and returns them newest
// first, with their verdicts. A corrupt record is reported as such, never
// an error.
func Load(stateDir string, o LoadOptions) ([]Lifetime, error) {
	if o.Alive == nil {
		o.Alive = proc.SameProcess
	}
	dir := paths.State(stateDir).Lifetimes()
	ids, groups, err := lifetimeFiles(string(dir))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var lts []*Lifetime
	for _, id := range ids {
		var hasRecord bool
		var crashFile string
		for _, fi := range groups[id] {
			switch {
			case strings.HasSuffix(fi.Name(), paths.RecordExt):
				hasRecord = true
			case strings.HasSuffix(fi.Name(), paths.CrashExt) && fi.Size() > 0:
				crashFile = dir.Crash(id)
			}
		}
		if !hasRecord {
			continue
		}
		lt := readRecord(dir.Record(id), id)
		if crashFile != "" {
			lt.CrashFile = crashFile
			lt.crashHead = crashSummary(crashFile)
		}
		lts = append(lts, lt)
	}
	lts = append(lts, judge(lts, o)...)
	sort.SliceStable(lts, func(i, j int) bool { return lts[i].StartedAt.After(lts[j].StartedAt) })
	out := make([]Lifetime, len(lts))
	for i, lt := range lts {
		out[i] = *lt
	}
	return out, nil
}

// Find returns one lifetime with its events and crash output. id may be a
// unique prefix, or a pid.
func Find(stateDir, id string, o LoadOptions) (*Lifetime, error) {
	lts, err := Load(stateDir, o)
	if err != nil {
		return nil, err
	}
	// An exact id first, then a pid (the newest lifetime with it: a pid
	// such as 2026 is also a prefix of every id of that year), then a
	// prefix that must be unique.
	var exact, byPID, prefix []Lifetime
	for _, lt := range lts {
		switch {
		case lt.ID == id:
			exact = append(exact, lt)
		case strconv.Itoa(lt.PID) == id:
			byPID = append(byPID, lt)
		case strings.HasPrefix(lt.ID, id):
			prefix = append(prefix, lt)
		}
	}
	var lt Lifetime
	switch {
	case len(exact) > 0:
		lt = exact[0]
	case len(byPID) > 0:
		lt = byPID[0]
	case len(prefix) == 1:
		lt = prefix[0]
	case len(prefix) > 1:
		return nil, fmt.Errorf("%q matches %d lifetimes; give more of the id", id, len(prefix))
	default:
		return nil, fmt.Errorf("no lifetime %q in %s", id, paths.State(stateDir).Lifetimes())
	}
	if lt.Record != "" {
		if b, err := readCapped(lt.Record); err == nil {
			for _, line := range bytes.Split(b, []byte("\n")) {
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				if json.Valid(line) {
					lt.Events = append(lt.Events, json.RawMessage(line))
				} else {
					q, _ := json.Marshal(map[string]string{"unparsed": string(line)})
					lt.Events = append(lt.Events, q)
				}
			}
		}
	}
	if lt.CrashFile != "" {
		if b, err := readCapped(lt.CrashFile); err == nil {
			lt.Crash = string(b)
		}
	}
	return &lt, nil
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(&limited{f, maxRecordBytes})
	return buf.Bytes(), err
}

type limited struct {
	f *os.File
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("record larger than %d bytes", maxRecordBytes)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// ReadEvents is the events of the record at path, oldest first; a damaged
// line is skipped (a hosted app's lifetimes are read this way).
func ReadEvents(path string) []Event {
	evs, _ := readEvents(path)
	return evs
}

// readEvents reads a record's events and says what is damaged in it: the
// first bad line, or why it could not be read ("" if nothing).
func readEvents(path string) (evs []Event, corrupt string) {
	b, err := readCapped(path)
	if err != nil {
		corrupt = err.Error()
	}
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := parseEvent(line)
		if err != nil {
			if corrupt == "" && errors.Is(err, errNotJSON) {
				corrupt = fmt.Sprintf("line %d is not valid JSON (%d bytes; truncated or damaged)", n+1, len(line))
			} else if corrupt == "" {
				corrupt = fmt.Sprintf("line %d: %v", n+1, err)
			}
			continue
		}
		evs = append(evs, ev)
	}
	return evs, corrupt
}

func readRecord(path, id string) *Lifetime {
	lt := &Lifetime{ID: id, Record: path}
	lt.StartedAt, lt.PID = parseID(id)
	lt.events, lt.corrupt = readEvents(path)
	if len(lt.events) == 0 && lt.corrupt == "" {
		lt.corrupt = "empty record"
	}
	for _, ev := range lt.events {
		if ev.Event == EvFirstLine {
			lt.PID, lt.PPID, lt.Version, lt.RestartOf, lt.startTick = ev.PID, ev.PPID, ev.Version, ev.RestartOf, ev.StartTicks
			if t, ok := ev.Time(); ok {
				lt.StartedAt = t
			}
			break
		}
	}
	return lt
}

// RecordOf is the path of pid's newest lifetime record ("" if none): the
// record a helper of that server appends its events to.
func RecordOf(stateDir string, pid int) string {
	m, _ := filepath.Glob(paths.State(stateDir).Lifetimes().Record("*-" + strconv.Itoa(pid)))
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m) // ids start with the UTC start time
	return m[len(m)-1]
}

// parseID reads start time and pid from "20261127T005647.957630Z-21499".
func parseID(id string) (time.Time, int) {
	ts, pid, _ := strings.Cut(id, "-")
	t, _ := time.Parse("20060102T150405.000000Z", ts)
	p, _ := strconv.Atoi(pid)
	return t, p
}

func parseFreeze(ev *Event) (Freeze, bool) {
	if ev.At.IsZero() || ev.DurationS <= 0 || (ev.Kind != FreezeKindFreeze && ev.Kind != FreezeKindSleep) {
		return Freeze{}, false
	}
	return Freeze{Kind: ev.Kind, At: ev.At, DurationS: ev.DurationS}, true
}

func first(lt *Lifetime, name string) *Event {
	for i := range lt.events {
		if lt.events[i].Event == name {
			return &lt.events[i]
		}
	}
	return nil
}

func (lt *Lifetime) judge(o LoadOptions, spawns []*spawn) {
	fl, inst, ready := first(lt, EvFirstLine), first(lt, EvInstalled), first(lt, EvReady)
	// The exit that counts is the last one not followed by "resumed" (an
	// exec restart that failed and served on).
	var exit *Event
	for i, e := range lt.events {
		switch e.Event {
		case EvExit:
			exit = &lt.events[i]
		case EvResumed:
			exit = nil
		}
	}
	for i, ev := range lt.events {
		switch ev.Event {
		case EvPanic:
			lt.Panics++
		case EvSignal:
			lt.Signals = append(lt.Signals, ev.Name)
		case EvFreeze:
			if f, ok := parseFreeze(&lt.events[i]); ok {
				lt.Freezes = append(lt.Freezes, f)
			}
		}
	}
	if ready != nil {
		lt.Addr = ready.Addr
	}
	ev := []string{}
	mark := func(name string, e *Event) {
		if e == nil {
			return
		}
		t, _ := e.Time()
		s := name + " " + t.Local().Format("15:04:05.000")
		if name == "ready" {
			s += " on " + e.Addr
		}
		ev = append(ev, s)
	}
	mark("first-line", fl)
	mark("installed", inst)
	mark("ready", ready)
	end := func(e *Event) {
		if t, ok := e.Time(); ok {
			lt.EndedAt = &t
			lt.LivedS = t.Sub(lt.StartedAt).Seconds()
		}
	}
	defer func() {
		if lt.EndedAt == nil && lt.Verdict != Running && lt.Verdict != CorruptRecord {
			ev = append(ev, lt.livedAtLeast()...)
		}
		lt.Lived = fmtLived(lt.LivedS, lt.LivedAtLeast)
		lt.Evidence = ev
	}()

	if len(lt.events) == 0 {
		// Killed between creating its record and writing its first line.
		for _, s := range spawns {
			if s.pid == lt.PID && s.by != lt.ID && s.covers(lt.StartedAt) {
				lt.Verdict = KilledInRestartWindow
				lt.Summary = "killed in the restart window in its first instant: a restart started it, and its record is empty"
				lt.Hint = restartHint
				ev = append(ev, "started by the restart of "+s.by, "empty record")
				return
			}
		}
	}
	if lt.corrupt != "" {
		lt.Verdict = CorruptRecord
		lt.Summary = "record is corrupt: " + lt.corrupt
		ev = append(ev, lt.corrupt)
		return
	}
	if fl == nil {
		lt.Verdict = CorruptRecord
		lt.Summary = "record has no first-line marker"
		return
	}
	if exit != nil {
		end(exit)
		reason, code := exit.Reason, exit.Code
		lt.Reason = reason
		ev = append(ev, fmt.Sprintf("exit %q code %d", reason, code))
		switch {
		case ExitReason(reason) == ReasonConfigError:
			lt.Verdict = DiedInStartup
			lt.Summary = "died in startup: config error: " + exit.Detail
		case ExitReason(reason) == ReasonAlreadyRunning:
			lt.Verdict = DiedInStartup
			lt.Summary = "died in startup: " + exit.Detail
		case ExitReason(reason) == ReasonCannotListen:
			lt.Verdict = DiedBeforeListening
			lt.Summary = "died before listening: " + exit.Detail
		case exit.Signal != 0 && exit.Intent == "":
			lt.Verdict = CaughtSignal
			lt.Summary = fmt.Sprintf("caught signal %d (%s); shut down cleanly, exit %d", exit.Signal, reason, code)
		default:
			lt.Verdict = CleanExit
			why := reason
			if in := exit.Intent; in != "" {
				why = in + " (" + reason + ")"
				lt.Reason = in
			}
			if d := exit.Detail; d != "" {
				why += ": " + d
			}
			lt.Summary = fmt.Sprintf("clean exit: %s, exit %d", why, code)
		}
		return
	}
	if lt.crashHead != "" {
		lt.Verdict = Crash
		lt.Summary = "crash: " + lt.crashHead
		ev = append(ev, "crash output in "+filepath.Base(lt.CrashFile))
		if st, err := os.Stat(lt.CrashFile); err == nil {
			t := st.ModTime()
			lt.EndedAt = &t
			lt.LivedS = t.Sub(lt.StartedAt).Seconds()
		}
		return
	}
	// An exec restart without an exit record: the old image ended when the
	// new one (same pid) wrote its first line.
	for _, s := range spawns {
		if s.exec && s.by == lt.ID && s.next != "" {
			lt.Verdict = CleanExit
			lt.Reason = string(ReasonRestart)
			lt.Summary = "clean exit: exec restart in place, continued as lifetime " + s.next
			lt.EndedAt = &s.t
			lt.LivedS = s.t.Sub(lt.StartedAt).Seconds()
			ev = append(ev, "pre-restart exec "+s.t.Local().Format("15:04:05.000"), "next lifetime "+s.next)
			return
		}
	}
	if o.Alive(lt.PID, lt.startTick) && !lt.superseded(spawns) {
		lt.Verdict = Running
		lt.LivedS = time.Since(lt.StartedAt).Seconds()
		lt.Summary = "still running"
		return
	}
	for _, s := range spawns {
		if s.pid != lt.PID || s.by == lt.ID || !s.covers(lt.StartedAt) {
			continue
		}
		if s.killed || (ready == nil && lt.StartedAt.Sub(s.t) < time.Minute) {
			lt.Verdict = KilledInRestartWindow
			lt.Summary = "killed in the restart window: a restart started it and it was SIGKILLed before it was ready"
			if s.killed && ready != nil {
				lt.Summary = "killed in the restart window: the restart helper saw it SIGKILLed during its survival check"
			}
			lt.Hint = restartHint
			ev = append(ev, "started by the restart of "+s.by)
			return
		}
	}
	switch {
	case ready != nil:
		lt.Verdict = KilledUntraced
		lt.Summary = "killed without a trace while running: no exit, no crash (SIGKILL: OOM killer, Android's phantom process killer, a cgroup kill, or kill -9)"
		if o.Android {
			lt.Hint = PhantomHint
		}
	case inst != nil:
		lt.Verdict = DiedBeforeListening
		lt.Summary = "died before listening: the signal trap was installed, but it never became ready (cause not recorded)"
	default:
		lt.Verdict = DiedInStartup
		lt.Summary = "died in startup, before the signal trap was installed (killed, or a failure in early startup)"
	}
}
