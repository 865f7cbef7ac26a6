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
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/jsonfast"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/rawfile"
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
	dir      paths.Lifetimes
	id       string
	crash    *os.File
	started  time.Time
	inflight func() any
	log      Options
}

// Install takes over the record that firstline opened (moving it when the
// config file chose another state dir), points crash output at the
// lifetime's crash file, prunes old records and writes "installed".
// Diagnostics that cannot be written never stop the server: the error is
// returned for logging and the Recorder carries on without a record.
func Install(o Options) (*Recorder, error) {
	firstline.Wait()
	r := &Recorder{started: firstline.Started, id: firstline.ID, inflight: o.Inflight, log: o}
	SetPanicReporter(r.Panic)
	if !o.Enabled {
		if firstline.Record != nil {
			firstline.Record.Close()
			os.Remove(paths.Lifetimes(firstline.RecordDir).Record(firstline.ID))
		}
		return r, nil
	}
	r.dir = paths.State(o.StateDir).Lifetimes()
	f, err := adopt(string(r.dir))
	if err != nil {
		return r, fmt.Errorf("diagnostics: %w", err)
	}
	r.f = f
	debug.SetTraceback("all")
	if cf, err := rawfile.OpenFile(r.dir.Crash(r.id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
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
	r.writeLine(installedLine(time.Now().UTC(), r.crash != nil))
	return r, pruneErr
}

// installedLine is what write would make of EvInstalled, built by hand:
// the first json.Marshal of an Event builds encoding/json's encoder for
// its forty fields (a third of a millisecond), and this line is on the way
// to the listener. The ready line pays that once the server answers.
func installedLine(t time.Time, crash bool) []byte {
	b := lineHead(EvInstalled, t)
	if crash {
		b = append(b, `,"crash_output":true`...)
	}
	return append(b, "}\n"...)
}

// lineHead starts an Event line: its name (a constant, plain) and time.
func lineHead(event string, t time.Time) []byte {
	b := append(make([]byte, 0, 96), `{"event":"`...)
	b = append(append(b, event...), `","t":"`...)
	b, _ = t.AppendText(b)
	return append(b, '"')
}

// PruneOld keeps the newest Options.Keep lifetimes within Options.MaxBytes.
func (r *Recorder) PruneOld() error {
	if r == nil || r.dir == "" {
		return nil
	}
	if err := Prune(string(r.dir), r.log.Keep, r.log.MaxBytes, r.id); err != nil {
		return fmt.Errorf("diagnostics: prune: %w", err)
	}
	return nil
}

// adopt returns the open record in dir, moving firstline's record there, or
// starting one late when firstline could not.
func adopt(dir string) (*os.File, error) {
	name := paths.Lifetimes(dir).Record(firstline.ID)
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
		old := paths.Lifetimes(firstline.RecordDir).Record(firstline.ID)
		if b, err := os.ReadFile(old); err == nil {
			_, _ = f.Write(b)
		}
		firstline.Record.Close()
		os.Remove(old)
		return f, nil
	}
	exe, _ := os.Executable()
	line, _ := json.Marshal(Event{
		Event: EvFirstLine, T: firstline.Started.UTC(), PID: firstline.PID, PPID: os.Getppid(),
		Exe: exe, Argv: os.Args, Late: true, EarlyError: errString(firstline.Err),
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
	return r.dir.Record(r.id)
}

// write appends one event as a single write(2), without fsync (see
// firstline: the page cache survives SIGKILL).
func (r *Recorder) write(ev Event) {
	if r == nil || r.f == nil {
		return
	}
	if ev.T.IsZero() {
		ev.T = time.Now().UTC()
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	r.writeLine(append(line, '\n'))
}

// writeLine appends one whole line to the record.
func (r *Recorder) writeLine(line []byte) {
	r.mu.Lock()
	_, _ = r.f.Write(line)
	r.mu.Unlock()
}

// Ready records that the server listens on addr.
func (r *Recorder) Ready(addr string) {
	if r == nil || r.f == nil {
		return
	}
	r.writeLine(readyLine(time.Now().UTC(), addr))
}

// readyLine is json.Marshal of the ready Event and a newline, by hand as
// installedLine: it is written while the first request is served.
func readyLine(t time.Time, addr string) []byte {
	b := lineHead(EvReady, t)
	if addr != "" {
		b = jsonfast.AppendString(append(b, `,"addr":`...), addr)
	}
	return append(b, "}\n"...)
}

// Signal records a caught signal with a snapshot of the process: uptime,
// every goroutine's stack, open fds, goroutines, RSS and the requests in
// flight. action says what the process does about it.
func (r *Recorder) Signal(sig syscall.Signal, action string) {
	if r == nil || r.f == nil {
		return
	}
	ev := r.snapshot()
	ev.Event, ev.Signal, ev.Name, ev.Action = EvSignal, int(sig), SignalName(sig), action
	r.write(ev)
}

func (r *Recorder) snapshot() Event {
	ev := Event{
		UptimeS:    time.Since(r.started).Seconds(),
		Goroutines: runtime.NumGoroutine(),
		OpenFDs:    OpenFDs(),
		RSSBytes:   rssBytes(),
		Stacks:     allStacks(),
	}
	if r.inflight != nil {
		ev.Inflight = r.inflight()
	}
	return ev
}

// Exiting records how the process ends, when no signal ended it.
func (r *Recorder) Exiting(reason ExitReason, detail string, code int) {
	if r == nil || r.f == nil {
		return
	}
	r.write(Event{Event: EvExit, Reason: string(reason), Detail: detail, Code: code, UptimeS: time.Since(r.started).Seconds()})
	r.closeCrash()
}

// ExitingSignal is Exiting for a shutdown that a signal started; intent
// names who sent it and why (ctl stop, restart, update), when known.
func (r *Recorder) ExitingSignal(sig syscall.Signal, intent string, code int) {
	if r == nil || r.f == nil {
		return
	}
	r.write(Event{Event: EvExit, Reason: SignalName(sig), Signal: int(sig), Intent: intent,
		Code: code, UptimeS: time.Since(r.started).Seconds()})
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
	r.write(Event{Event: EvPanic, Where: where, Value: fmt.Sprint(value), Stack: string(stack)})
}

// PreRestart is written by the old process as it hands over to the next.
// The diagnose decision table pairs it with the next lifetime's first-line.
// ev carries the strategy's details (Reason, Exe, ListenFD, By, ...).
func (r *Recorder) PreRestart(strategy health.Strategy, ev Event) {
	ev.Event, ev.Strategy, ev.PID = EvPreRestart, strategy, os.Getpid()
	r.write(ev)
}

// Resumed records that a restart failed after its exit record was written
// (the exec returned) and this process serves on: the exit before it does
// not count.
func (r *Recorder) Resumed(detail string) {
	r.write(Event{Event: EvResumed, Detail: detail})
}

// Update records a step of a self-update (internal/update): started,
// installed, restarting, failed, updated, rolled-back, ...
func (r *Recorder) Update(ev Event) {
	ev.Event = EvUpdate
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

// AppendEvent appends ev to the record at path, which must exist, as one
// write(2): a concurrent reader sees whole lines. It is for a process that
// writes into a record it did not start: the restart helper and the
// watchdog into a server's (EvHelper steps: started, old-gone, delay-done,
// spawned, survived, killed, retrying, gave-up), the update confirmer
// (EvUpdate), the app supervisor into an app's lifetimes (EvStart,
// EvExit, EvGone). T defaults to now; a helper's HelperPID to this process.
func AppendEvent(path string, ev Event) error {
	if path == "" {
		return errors.New("no record")
	}
	if ev.HelperPID == 0 && (ev.Event == EvHelper || ev.Event == EvUpdate) {
		ev.HelperPID = os.Getpid()
	}
	if ev.T.IsZero() {
		ev.T = time.Now().UTC()
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

// OpenFDs counts this process's open file descriptors (-1 if unknown).
func OpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory handle ReadDir itself held
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
func EarlyExit(reason ExitReason, detail string, code int) {
	firstline.Wait()
	if firstline.Record == nil {
		return
	}
	line, _ := json.Marshal(Event{Event: EvExit, T: time.Now().UTC(), Reason: string(reason), Detail: detail, Code: code,
		UptimeS: time.Since(firstline.Started).Seconds()})
	_, _ = firstline.Record.Write(append(line, '\n'))
}

// WriteIntent announces the reason for the next SIGTERM (paths.Run.Intent),
// so the exit record can say "ctl stop" rather than just SIGTERM.
func WriteIntent(runDir, intent string) error {
	return os.WriteFile(paths.Run(runDir).Intent(), []byte(intent+"\n"), 0o600)
}

// TakeIntent reads and removes the announced reason ("" if none, or if it
// is older than a minute and so not about this signal).
func TakeIntent(runDir string) string {
	p := paths.Run(runDir).Intent()
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
