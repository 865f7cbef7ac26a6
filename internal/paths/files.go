package paths

import (
	"strconv"
	"strings"
)

// The file names below are the contract between webui's processes (the
// server, its restart helper, the watchdog, `ctl`, the update confirmer):
// each is spelled here and nowhere else. Hosted apps get their own
// directories under these dirs.

// State is a state directory: what outlives restarts and reboots.
type State string

// The secrets in the state directory, each mode 0600.
const (
	TokenFileName      = "token"            // the owner's access token
	SessionKeyFileName = "session.key"      // HMAC key that signs session cookies
	PasswordFileName   = "password_hash"    // the login password's hash (`webui passwd`)
	RevokedFileName    = "sessions.revoked" // sessions logged out before they expire
)

// Token is the owner's access token file.
func (s State) Token() string { return join(string(s), TokenFileName) }

// SessionKey is the file of the key that signs session cookies.
func (s State) SessionKey() string { return join(string(s), SessionKeyFileName) }

// Password is the login password hash file.
func (s State) Password() string { return join(string(s), PasswordFileName) }

// Revoked lists the logged-out sessions that have not expired yet.
func (s State) Revoked() string { return join(string(s), RevokedFileName) }

// Lifetimes is the directory of the lifetime records.
func (s State) Lifetimes() Lifetimes { return Lifetimes(join(string(s), "lifetimes")) }

// Updates is the self-update's working directory.
func (s State) Updates() Updates { return Updates(join(string(s), "updates")) }

// Lifetimes is a lifetimes directory: one record (and perhaps a crash file
// and restart traces) per server lifetime, all named after its id.
type Lifetimes string

// The suffixes of a lifetime's files.
const (
	RecordExt = ".jsonl" // the lifetime record, one JSON event a line
	CrashExt  = ".crash" // the Go runtime's crash output
)

// Record is the record of lifetime id. id may be a glob pattern.
func (l Lifetimes) Record(id string) string { return join(string(l), id+RecordExt) }

// Crash is the crash output file of lifetime id.
func (l Lifetimes) Crash(id string) string { return join(string(l), id+CrashExt) }

// RestartTrace is the strace output of a restart attempt, next to the
// record of the lifetime that asked for the restart.
func RestartTrace(record string, attempt int) string {
	return strings.TrimSuffix(record, RecordExt) + ".restart-" + strconv.Itoa(attempt) + ".strace"
}

// Updates is the updates directory in the state dir.
type Updates string

// Pending describes an update waiting for confirmation.
func (u Updates) Pending() string { return join(string(u), "pending.json") }

// Status is the last update's persisted status.
func (u Updates) Status() string { return join(string(u), "status.json") }

// ApplyLock is flocked by whoever applies or confirms an update.
func (u Updates) ApplyLock() string { return join(string(u), "apply.lock") }

// LastCheck is the result of the last check for updates.
func (u Updates) LastCheck() string { return join(string(u), "check.json") }

// Staging holds the downloaded artifact until it is installed.
func (u Updates) Staging() string { return join(string(u), "staging") }

// DpkgLog is dpkg's output while it installs a staged package.
func (u Updates) DpkgLog() string { return join(u.Staging(), "dpkg.log") }

// DpkgRollbackLog is dpkg's output while it reinstalls the previous package.
func (u Updates) DpkgRollbackLog() string { return join(string(u), "dpkg-rollback.log") }

// CurrentDeb and PrevDeb are the cached .debs of the version the last dpkg
// update installed and of the one before it.
func (u Updates) CurrentDeb() string { return join(string(u), "current.deb") }
func (u Updates) PrevDeb() string    { return join(string(u), "prev.deb") }

// DebVersion names the version a cached .deb holds.
func DebVersion(deb string) string { return deb + ".version" }

// Run is a run directory: the pid files, locks and markers that say who
// runs and what it is about to do.
type Run string

// PIDFileName is the server's pid file, held under flock for its life.
const PIDFileName = "webui.pid"

// PIDFile is the server's pid file.
func (r Run) PIDFile() string { return join(string(r), PIDFileName) }

// NotBefore is where, under runit on Android, the old server leaves the
// earliest time the service's run script may start the next one.
func (r Run) NotBefore() string { return join(string(r), "webui.notbefore") }

// Stopped is the "stopped on purpose" marker `webui ctl stop` leaves.
func (r Run) Stopped() string { return join(string(r), "webui.stopped") }

// WatchdogPID is the watchdog's pid file.
func (r Run) WatchdogPID() string { return join(string(r), "webui-watchdog.pid") }

// WatchdogState is where the watchdog writes its last action.
func (r Run) WatchdogState() string { return join(string(r), "webui-watchdog.json") }

// Intent is where `webui ctl` announces why it is about to signal the
// server, so the exit record can say "ctl stop" rather than just SIGTERM.
func (r Run) Intent() string { return join(string(r), "webui.intent") }

// RestartIntent holds the intent of a delayed restart under way.
func (r Run) RestartIntent() string { return join(string(r), "webui.restart") }

// RestartLock is flocked by whoever carries a delayed restart out (the
// helper or the watchdog): one starter at a time.
func (r Run) RestartLock() string { return join(string(r), "webui-restart.lock") }

// Log is a log directory.
type Log string

// Server is the server's JSON log.
func (l Log) Server() string { return join(string(l), "webui.log") }

// Console receives a detached server's stdout and stderr.
func (l Log) Console() string { return join(string(l), "console.log") }

// Watchdog is the watchdog's text log.
func (l Log) Watchdog() string { return join(string(l), "watchdog.log") }

// Update is the update confirmer's log.
func (l Log) Update() string { return join(string(l), "update.log") }

// join is dir/name; an empty dir means the working directory.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimRight(dir, "/") + "/" + name
}
