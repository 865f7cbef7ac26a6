package diag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/termux-webui/webui/internal/health"
)

// Event names in a lifetime record, in the order a healthy lifetime writes
// them. Restart records ("pre-restart", "helper") may follow.
const (
	EvFirstLine  = "first-line"
	EvInstalled  = "installed"
	EvReady      = "ready"
	EvSignal     = "signal"
	EvPanic      = "panic"
	EvExit       = "exit"
	EvPreRestart = "pre-restart"
	EvHelper     = "helper"
	EvResumed    = "resumed"
	EvUpdate     = "update"
)

// Events of a hosted app's lifetimes (paths' AppLifetimes): its process
// started, or it ended. EvExit when webui saw its wait status (Code, or
// Signal and Name); EvGone when webui only saw it go (an adopted process
// is not webui's child).
const (
	EvStart = "start"
	EvGone  = "gone"
)

// ExitReason says why a server exits ("reason" of an exit event). A signal
// that started the shutdown is its own reason: ExitReason(SignalName(sig)).
type ExitReason string

// Exit reasons that are not signals.
const (
	ReasonConfigError  ExitReason = "config error"
	ReasonCannotListen ExitReason = "cannot listen"
	ReasonServeFailed  ExitReason = "serve failed"
	// ReasonAlreadyRunning: another server holds the pid file.
	ReasonAlreadyRunning ExitReason = "already running"
	ReasonRestart        ExitReason = "restart"
	// ReasonContextDone: the server's context ended (an in-process caller).
	ReasonContextDone ExitReason = "context done"
)

// Event is one line of a lifetime record. Each kind of event (Event) sets
// only its own fields; the rest stay empty and are not written. The JSON
// names are the record format, which older versions wrote too: keep them.
type Event struct {
	Event string    `json:"event"`
	T     time.Time `json:"t"`

	// first-line (the process), pre-restart (the old server), helper and
	// watchdog steps (the process started).
	PID        int      `json:"pid,omitempty"`
	PPID       int      `json:"ppid,omitempty"`
	Version    string   `json:"version,omitempty"`
	Exe        string   `json:"exe,omitempty"`
	StartTicks uint64   `json:"start_ticks,omitempty"`
	RestartOf  string   `json:"restart_of,omitempty"`
	Argv       []string `json:"argv,omitempty"`
	Late       bool     `json:"late,omitempty"` // written by Install: firstline could not
	EarlyError string   `json:"early_error,omitempty"`

	CrashOutput bool   `json:"crash_output,omitempty"` // installed
	Addr        string `json:"addr,omitempty"`         // ready

	// signal: a caught signal, with a snapshot of the process.
	Signal     int     `json:"signal,omitempty"`
	Name       string  `json:"name,omitempty"`
	Action     string  `json:"action,omitempty"`
	Count      int     `json:"count,omitempty"` // SIGPIPEs since the last marker
	UptimeS    float64 `json:"uptime_s,omitempty"`
	Goroutines int     `json:"goroutines,omitempty"`
	OpenFDs    int     `json:"open_fds,omitempty"`
	RSSBytes   int64   `json:"rss_bytes,omitempty"`
	Stacks     string  `json:"stacks,omitempty"`
	Inflight   any     `json:"inflight,omitempty"`

	// exit (with Signal, UptimeS); pre-restart and update steps give a
	// Reason too: why the restart was asked for.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	Code   int    `json:"code,omitempty"`
	Intent string `json:"intent,omitempty"`

	// panic
	Where string `json:"where,omitempty"`
	Value string `json:"value,omitempty"`
	Stack string `json:"stack,omitempty"`

	// pre-restart
	Strategy health.Strategy `json:"strategy,omitempty"`
	ListenFD int             `json:"listen_fd,omitempty"`
	By       string          `json:"by,omitempty"` // who starts the next server: helper or watchdog
	DelayS   float64         `json:"delay_s,omitempty"`
	Schedule string          `json:"schedule,omitempty"`

	// helper and update steps, written by a process into another's record.
	Step          string  `json:"step,omitempty"`
	HelperPID     int     `json:"helper_pid,omitempty"`
	OldPID        int     `json:"old_pid,omitempty"`
	SurviveS      float64 `json:"survive_s,omitempty"`
	Attempts      int     `json:"attempts,omitempty"`
	CapS          float64 `json:"cap_s,omitempty"`
	Attempt       int     `json:"attempt,omitempty"`
	SinceOldExitS float64 `json:"since_old_exit_s,omitempty"`
	HealthyAfterS float64 `json:"healthy_after_s,omitempty"`
	Strace        bool    `json:"strace,omitempty"`

	// update steps
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Method     string    `json:"method,omitempty"`
	Prev       string    `json:"prev,omitempty"`
	URL        string    `json:"url,omitempty"`
	Size       int64     `json:"size,omitempty"`
	While      string    `json:"while,omitempty"`
	Error      string    `json:"error,omitempty"`
	Why        string    `json:"why,omitempty"`
	Note       string    `json:"note,omitempty"`
	Deadline   time.Time `json:"deadline,omitzero"`
	TookS      float64   `json:"took_s,omitempty"`
	Stopped    []int     `json:"stopped,omitempty"`
	ServingPID int       `json:"serving_pid,omitempty"`
	// Restart is false for an update that needed no restart.
	Restart *bool `json:"restart,omitempty"`

	// freeze
	Kind      string    `json:"kind,omitempty"`
	At        time.Time `json:"at,omitzero"`
	DurationS float64   `json:"duration_s,omitempty"`

	// A hosted app's start and exit (with PID, StartTicks, UptimeS, Code or
	// Signal and Name, Reason and Detail, its summary), judged when it ended.
	Port    int      `json:"port,omitempty"`
	Verdict string   `json:"verdict,omitempty"`
	Hint    string   `json:"hint,omitempty"`
	Tail    []string `json:"tail,omitempty"` // the last lines of its log
}

// Time is when the event happened (false: no readable time).
func (e *Event) Time() (time.Time, bool) { return e.T, !e.T.IsZero() }

var null = []byte("null")

// errNotJSON: a record line that is not a JSON object.
var errNotJSON = errors.New("not valid JSON")

// parseEvent reads one record line. It fails when the line is not a JSON
// object (errNotJSON), or when a field the verdicts rely on has the wrong
// type (a record with "pid":"x" is damaged, not a clean exit). Any other
// odd field is left empty, so the event still counts.
func parseEvent(line []byte) (Event, error) {
	var ev Event
	err := json.Unmarshal(line, &ev)
	if err == nil && !bytes.Contains(line, null) {
		return ev, nil
	}
	// The rare path: find out which field is off, as a map tells.
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return Event{}, errNotJSON
	}
	if k := wrongType(m); k != "" {
		return Event{}, fmt.Errorf("%q has the wrong type (%T)", k, m[k])
	}
	// Decode field by field: one field's error costs only that field.
	ev = Event{}
	for k, v := range m {
		b, _ := json.Marshal(map[string]any{k: v})
		_ = json.Unmarshal(b, &ev)
	}
	return ev, nil
}
