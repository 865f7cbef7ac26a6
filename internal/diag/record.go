package diag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/firstline"
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

// Exit reasons that are not signals.
const (
	ReasonConfigError  = "config error"
	ReasonCannotListen = "cannot listen"
	ReasonServeFailed  = "serve failed"
	ReasonRestart      = "restart"
	// ReasonAlreadyRunning: another server holds the pid file.
	ReasonAlreadyRunning = "already running"
)

// Options configure Install.
type Options struct {
	StateDir string
	Enabled  bool
	Keep     int   // lifetimes kept
	MaxBytes int64 // total size cap of the records
	// PruneLater leaves the pruning of old records to PruneOld, for a
	// server that prunes once it listens.
	PruneLater bool
	// Inflight, when set, lists the requests being served; signal records
	// include it.
	Inflight func() any
	// Log receives the lines that also go to the log file.
	Log interface {
		Errorf(string, ...any)
		Warnf(string, ...any)
		Infof(string, ...any)
	}
}

// Recorder appends events to this process's lifetime record. A nil or
// disabled Recorder does nothing, so callers never check.
type Recorder struct {
	mu       sync.Mutex
	f        *os.File
	dir      string
	id       string
	crash    *os.File
	started  time.Time
	inflight func() any
	log      Options
}

// Dir is the lifetimes directory of a state dir.
func Dir(stateDir string) string { return filepath.Join(stateDir, firstline.LifetimesDir) }

// Install takes over the record that firstline opened (moving it when the
// config file chose another state dir), points crash output at the
// lifetime's crash file, prunes old records and writes "installed".
// Diagnostics that cannot be written never stop the server: the error is
// returned for logging and the Recorder carries on without a record.
func Install(o Options) (*Recorder, error) {
	r := &Recorder{started: firstline.Started, id: firstline.ID, inflight: o.Inflight, log: o}
	SetPanicReporter(r.Panic)
	if !o.Enabled {
		if firstline.Record != nil {
			firstline.Record.Close()
			os.Remove(filepath.Join(firstline.RecordDir, firstline.ID+".jsonl"))
		}
		return r, nil
	}
	r.dir = Dir(o.StateDir)
	f, err := adopt(r.dir)
	if err != nil {
		return r, fmt.Errorf("diagnostics: %w", err)
	}
	r.f = f
	debug.SetTraceback("all")
	if cf, err := os.OpenFile(filepath.Join(r.dir, r.id+".crash"), os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_CLOEXEC, 0o600); err == nil {
		if err := debug.SetCrashOutput(cf, debug.CrashOptions{}); err == nil {
			r.crash = cf
		} else {
			cf.Close()
		}
	}
	var pruneErr error
	if !o.PruneLater {
		pruneErr = r.PruneOld()
	}
	r.write(map[string]any{"event": EvInstalled, "crash_output": r.crash != nil})
	return r, pruneErr
}

// PruneOld keeps the newest Options.Keep lifetimes within Options.MaxBytes.
func (r *Recorder) PruneOld() error {
	if r == nil || r.dir == "" {
		return nil
	}
	if err := Prune(r.dir, r.log.Keep, r.log.MaxBytes, r.id); err != nil {
		return fmt.Errorf("diagnostics: prune: %w", err)
	}
	return nil
}

// adopt returns the open record in dir, moving firstline's record there, or
// starting one late when firstline could not.
func adopt(dir string) (*os.File, error) {
	name := filepath.Join(dir, firstline.ID+".jsonl")
	if firstline.Record != nil && sameDir(firstline.RecordDir, dir) {
		return firstline.Record, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if firstline.Record != nil {
		// The config file named another state dir: carry the first-line
		// marker over and drop the early copy.
		old := filepath.Join(firstline.RecordDir, firstline.ID+".jsonl")
		if b, err := os.ReadFile(old); err == nil {
			_, _ = f.Write(b)
		}
		firstline.Record.Close()
		os.Remove(old)
		return f, nil
	}
	exe, _ := os.Executable()
	line, _ := json.Marshal(map[string]any{
		"event": EvFirstLine, "t": firstline.Started.UTC(), "pid": firstline.PID, "ppid": os.Getppid(),
		"exe": exe, "argv": os.Args, "late": true, "early_error": errString(firstline.Err),
	})
	_, _ = f.Write(append(line, '\n'))
	return f, nil
}

// sameDir: firstline saw the state dir as given (perhaps relative, or
// through a symlink); the config has it absolute. Comparing names alone
// would "move" the record onto itself and then delete it.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ID is this lifetime's id ("" when diagnostics are off).
func (r *Recorder) ID() string {
	if r == nil || r.f == nil {
		return ""
	}
	return r.id
}

// Path is the record file ("" when diagnostics are off).
func (r *Recorder) Path() string {
	if r == nil || r.f == nil {
		return ""
	}
	return filepath.Join(r.dir, r.id+".jsonl")
}

// write appends one event as a single write(2), without fsync (see
// firstline: the page cache survives SIGKILL).
func (r *Recorder) write(ev map[string]any) {
	if r == nil || r.f == nil {
		return
	}
	if _, ok := ev["t"]; !ok {
		ev["t"] = time.Now().UTC()
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	r.mu.Lock()
	_, _ = r.f.Write(append(line, '\n'))
	r.mu.Unlock()
}

// Ready records that the server listens on addr.
func (r *Recorder) Ready(addr string) {
	r.write(map[string]any{"event": EvReady, "addr": addr})
}

// Signal records a caught signal with a snapshot of the process: uptime,
// every goroutine's stack, open fds, goroutines, RSS and the requests in
// flight. action says what the process does about it.
func (r *Recorder) Signal(sig syscall.Signal, action string) {
	if r == nil || r.f == nil {
		return
	}
	ev := r.snapshot()
	ev["event"] = EvSignal
	ev["signal"] = int(sig)
	ev["name"] = SignalName(sig)
	ev["action"] = action
	r.write(ev)
}

func (r *Recorder) snapshot() map[string]any {
	ev := map[string]any{
		"uptime_s":   time.Since(r.started).Seconds(),
		"goroutines": runtime.NumGoroutine(),
		"open_fds":   openFDs(),
		"rss_bytes":  rssBytes(),
		"stacks":     allStacks(),
	}
	if r.inflight != nil {
		ev["inflight"] = r.inflight()
	}
	return ev
}

// Exiting records how the process ends, when no signal ended it.
func (r *Recorder) Exiting(reason, detail string, code int) {
	if r == nil || r.f == nil {
		return
	}
	r.write(map[string]any{"event": EvExit, "reason": reason, "detail": detail, "code": code, "uptime_s": time.Since(r.started).Seconds()})
	r.closeCrash()
}

// ExitingSignal is Exiting for a shutdown that a signal started; intent
// names who sent it and why (ctl stop, restart, update), when known.
func (r *Recorder) ExitingSignal(sig syscall.Signal, intent string, code int) {
	if r == nil || r.f == nil {
		return
	}
	r.write(map[string]any{"event": EvExit, "reason": SignalName(sig), "signal": int(sig), "intent": intent,
		"code": code, "uptime_s": time.Since(r.started).Seconds()})
	r.closeCrash()
}

// closeCrash drops an empty crash file at a clean exit, so only lifetimes
// that crashed keep one.
func (r *Recorder) closeCrash() {
	if r.crash == nil {
		return
	}
	if st, err := r.crash.Stat(); err == nil && st.Size() == 0 {
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		name := r.crash.Name()
		r.crash.Close()
		os.Remove(name)
		r.crash = nil
	}
}

// Panic records a panic recovered from a goroutine webui started.
func (r *Recorder) Panic(where string, value any, stack []byte) {
	if r == nil {
		return
	}
	if r.log.Log != nil {
		r.log.Log.Errorf("recovered panic in %s: %v\n%s", where, value, stack)
	}
	r.write(map[string]any{"event": EvPanic, "where": where, "value": fmt.Sprint(value), "stack": string(stack)})
}

// PreRestart is written by the old process as it hands over to the next.
// The diagnose decision table pairs it with the next lifetime's first-line.
func (r *Recorder) PreRestart(strategy string, detail map[string]any) {
	ev := map[string]any{"event": EvPreRestart, "strategy": strategy, "pid": os.Getpid()}
	for k, v := range detail {
		ev[k] = v
	}
	r.write(ev)
}

// Resumed records that a restart failed after its exit record was written
// (the exec returned) and this process serves on: the exit before it does
// not count.
func (r *Recorder) Resumed(detail string) {
	r.write(map[string]any{"event": EvResumed, "detail": detail})
}

// Update records a step of a self-update (internal/update): started,
// installed, restarting, failed, updated, rolled-back, ...
func (r *Recorder) Update(fields map[string]any) {
	ev := map[string]any{"event": EvUpdate}
	for k, v := range fields {
		ev[k] = v
	}
	r.write(ev)
}

// HeartbeatEvery is how often a running server touches its record.
const HeartbeatEvery = time.Minute

// Heartbeat touches the record (its mtime; nothing is written) every
// HeartbeatEvery until ctx ends, so a lifetime SIGKILLed hours after its
// last event still shows how long it lived. One utimensat a minute costs
// nothing a phone would notice.
func (r *Recorder) Heartbeat(ctx context.Context) {
	if r == nil || r.f == nil {
		return
	}
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			_ = os.Chtimes(r.Path(), now, now)
		}
	}
}

// AppendHelperEvent appends a restart helper's step to the record at path
// (the old process's record). Steps: started, old-gone, delay-done,
// spawned, survived, killed, retrying, gave-up.
func AppendHelperEvent(path, step string, fields map[string]any) error {
	if path == "" {
		return errors.New("no record")
	}
	ev := map[string]any{"event": EvHelper, "step": step, "helper_pid": os.Getpid(), "t": time.Now().UTC()}
	for k, v := range fields {
		ev[k] = v
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// StackDump writes every goroutine's stack to w (SIGUSR1 with diagnostics
// off still logs one).
func StackDump(w io.Writer) { _, _ = w.Write([]byte(allStacks())) }

func allStacks() string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 8<<20 {
			return string(buf[:n])
		}
		buf = make([]byte, len(buf)*2)
	}
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	var pages int64
	fmt.Sscan(f[1], &pages)
	return pages * int64(os.Getpagesize())
}

// SignalName is the conventional name of a signal ("SIGTERM").
func SignalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
		syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
		syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGSTOP: "SIGSTOP",
		syscall.SIGCONT: "SIGCONT", syscall.SIGSYS: "SIGSYS",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

func (r *Recorder) startedAt() time.Time {
	if r == nil {
		return time.Now()
	}
	return r.started
}

// EarlyExit records an exit that happens before Install, such as a config
// error, in the record firstline opened.
func EarlyExit(reason, detail string, code int) {
	if firstline.Record == nil {
		return
	}
	line, _ := json.Marshal(map[string]any{"event": EvExit, "t": time.Now().UTC(), "reason": reason, "detail": detail, "code": code,
		"uptime_s": time.Since(firstline.Started).Seconds()})
	_, _ = firstline.Record.Write(append(line, '\n'))
}

// IntentFile is where `webui ctl` announces why it is about to signal the
// server, so the exit record can say "ctl stop" rather than just SIGTERM.
func IntentFile(runDir string) string { return filepath.Join(runDir, "webui.intent") }

// WriteIntent announces the reason for the next SIGTERM.
func WriteIntent(runDir, intent string) error {
	return os.WriteFile(IntentFile(runDir), []byte(intent+"\n"), 0o600)
}

// TakeIntent reads and removes the announced reason ("" if none, or if it
// is older than a minute and so not about this signal).
func TakeIntent(runDir string) string {
	p := IntentFile(runDir)
	st, err := os.Stat(p)
	if err != nil {
		return ""
	}
	b, _ := os.ReadFile(p)
	os.Remove(p)
	if time.Since(st.ModTime()) > time.Minute {
		return ""
	}
	return strings.TrimSpace(string(b))
}
