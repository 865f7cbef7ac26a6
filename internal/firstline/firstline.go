// Package firstline runs webui's first user code. cmd/webui imports it before
// anything else, and it imports nothing heavier than os, syscall and strconv
// (and leaf packages built on them), so its init runs before the rest of the
// program is initialised.
//
// For a server process (`webui`, `webui serve`) it writes the first-line
// marker: the first event of this lifetime's record, under the state dir.
// Its time is taken here; the file is made on a goroutine started here, beside
// the other packages' init, and diag waits for it (Wait) before the server
// answers.
// If the process is killed after this, the marker says it got this far; if it
// is killed before, the absence of the marker says that instead (see
// internal/diag for the decision table that reads it).
//
// The marker is one plain write(2), without fsync: data in the page cache
// survives SIGKILL of the writer, and fsync on phone flash costs 10-50 ms.
package firstline

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/rawfile"
	"github.com/termux-webui/webui/internal/version"
)

// Started is when this process's first user code ran.
var Started = time.Now()

// PID is this process's id, read once.
var PID = os.Getpid()

// Record is the lifetime record this process opened, or nil when it is not
// a server process, diagnostics are off, or the state dir was unusable.
var Record *os.File

// RecordDir is the lifetimes directory the record was written in.
var RecordDir string

// ID names this lifetime: start time and pid, sortable by time.
var ID string

// Server is whether this process is a server lifetime (see isServer).
var Server = isServer(os.Args)

// Err is why no record could be written, if that was attempted and failed.
var Err error

// opened is closed once Record, RecordDir and Err are set.
var opened = make(chan struct{})

// Wait returns once the record is open, or failed to open: Record,
// RecordDir and Err are valid after it.
func Wait() { <-opened }

func init() {
	ID = Started.UTC().Format("20060102T150405.000000Z") + "-" + strconv.Itoa(PID)
	if !Server || early("diagnostics", "WEBUI_DIAGNOSTICS") == "off" {
		close(opened)
		return
	}
	// The record's file system calls (a new file: the costliest of a
	// start's) run beside the other packages' init and main's first steps.
	go func() {
		defer close(opened)
		defer func() {
			if v := recover(); v != nil {
				Err = fmt.Errorf("first line: %v", v)
			}
		}()
		open()
	}()
}

func open() {
	state := early("state-dir", "WEBUI_STATE_DIR")
	if state == "" {
		state = paths.FromEnviron().StateDir
	}
	RecordDir = string(paths.State(state).Lifetimes())
	if err := os.MkdirAll(RecordDir, 0o700); err != nil {
		Err = err
		return
	}
	f, err := rawfile.OpenFile(paths.Lifetimes(RecordDir).Record(ID), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_APPEND, 0o600)
	if err != nil {
		Err = err
		return
	}
	Record = f
	exe, _ := os.Executable()
	var b strings.Builder
	b.WriteString(`{"event":"first-line","t":"`)
	b.WriteString(Started.UTC().Format(time.RFC3339Nano))
	b.WriteString(`","pid":`)
	b.WriteString(strconv.Itoa(PID))
	b.WriteString(`,"ppid":`)
	b.WriteString(strconv.Itoa(os.Getppid()))
	b.WriteString(`,"version":`)
	b.WriteString(strconv.Quote(version.Version))
	b.WriteString(`,"exe":`)
	b.WriteString(strconv.Quote(exe))
	if ticks := startTicks(); ticks != "" {
		b.WriteString(`,"start_ticks":`)
		b.WriteString(ticks)
	}
	if r := os.Getenv(handoff.RestartOf); r != "" {
		b.WriteString(`,"restart_of":`)
		b.WriteString(strconv.Quote(r))
	}
	b.WriteString(`,"argv":[`)
	for i, a := range os.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(a))
	}
	b.WriteString("]}\n")
	_, Err = f.WriteString(b.String())
}

// isServer: only `webui`, `webui [flags]` and `webui serve` are server
// lifetimes; other subcommands leave no record. Neither do `go test`
// binaries of packages that import this one (pkg.test -test.v ...): they
// would litter the real default state dir with dead lifetimes.
func isServer(args []string) bool {
	if len(args) == 0 || strings.HasSuffix(args[0], ".test") || (len(args) > 1 && strings.HasPrefix(args[1], "-test.")) {
		return false
	}
	// `webui --help`, `webui serve -h`: usage, not a lifetime.
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return false
		}
	}
	return len(args) < 2 || strings.HasPrefix(args[1], "-") || args[1] == "serve"
}

// early reads a setting from the command line or environment before the
// config package is initialised. The config file can still move the record
// later (diag.Install does).
func early(flag, env string) string {
	args := os.Args[1:]
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--" + flag, "-" + flag} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, p+"=") {
				return a[len(p)+1:]
			}
		}
	}
	return os.Getenv(env)
}

// startTicks is field 22 of /proc/self/stat: with the pid it identifies this
// process even after the pid is reused.
func startTicks() string {
	var buf [1024]byte // the line is a few hundred bytes; the tail is not needed
	fd, err := syscall.Open("/proc/self/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	n, err := syscall.Read(fd, buf[:])
	syscall.Close(fd)
	if err != nil || n <= 0 {
		return ""
	}
	s := string(buf[:n])
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // fields after comm start at field 3
}
