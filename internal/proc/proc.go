// Package proc is the one place webui starts processes, waits for them,
// signals them and keeps pid files.
//
// Everything is built on syscall.ForkExec with no PidFD field set. Since
// Go 1.23 the os package's process starting (and so the exec package)
// probes the pidfd syscalls; on Android ≤ 11 seccomp answers that probe
// with SIGSYS, and a GOOS=linux binary running there (PRoot, the
// non-aarch64 Termux builds) dies with "bad system call".
// syscall.ForkExec does not probe. Runtime code therefore starts
// processes only through Spawn.
//
// The package is Linux/Android only: it reads /proc and uses flock(2).
package proc

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/nosigpipe"
)

// Attr says how Spawn sets up the child.
type Attr struct {
	// Dir is the child's working directory; "" keeps ours.
	Dir string
	// Env is the child's whole environment; nil means os.Environ().
	Env []string
	// Stdin, Stdout and Stderr become fds 0, 1 and 2; nil means /dev/null,
	// never our own stdio, so a detached child cannot hold our terminal or
	// write into a pipe nobody reads.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become fds 3, 4, ... in the child (listener handoff,
	// socket activation). A nil entry leaves that fd closed in the child.
	ExtraFiles []*os.File
	// Setsid starts the child in a new session: detached from our
	// controlling terminal and process group, so a SIGHUP or a signal to
	// the launching session's process group does not reach it.
	Setsid bool
}

// reaped remembers exit statuses collected by Reap or Terminate, so that a
// Wait for a child somebody else happened to reap still gets its status
// instead of ECHILD. Spawn forgets a pid when it is handed out again.
var reaped = struct {
	sync.Mutex
	status map[int]syscall.WaitStatus
	order  []int // insertion order, to bound the map
}{status: map[int]syscall.WaitStatus{}}

const maxReaped = 256

// remember records a reaped child's status; the caller holds reaped.Mutex.
func remember(pid int, ws syscall.WaitStatus) {
	if _, ok := reaped.status[pid]; !ok {
		reaped.order = append(reaped.order, pid)
	}
	reaped.status[pid] = ws
	for len(reaped.order) > maxReaped {
		delete(reaped.status, reaped.order[0])
		reaped.order = reaped.order[1:]
	}
}

// Spawn starts path with argv via syscall.ForkExec (never the os package's StartProcess,
// see the package doc) and returns the child's pid. path is not searched in
// PATH: use LookPath. An empty argv means {path}.
//
// The child is not waited for by Go: a caller that stays alive must Wait
// for it or Reap it, or it lingers as a zombie once it exits.
//
// Signals we ignore stay ignored in the child, as with the exec package: the kernel
// keeps SIG_IGN across exec, and Go resets only the signals it handles. So
// signal.Ignore(SIGPIPE) reaches every child (a shell cannot even undo it);
// signal.Notify for SIGPIPE would not. nosigpipe ignores it for the first
// moments of a start, so Spawn waits until it is caught.
func Spawn(path string, argv []string, a Attr) (int, error) {
	nosigpipe.Wait()
	if len(argv) == 0 {
		argv = []string{path}
	}
	env := a.Env
	if env == nil {
		env = os.Environ()
	}

	var devNull *os.File
	stdio := func(f *os.File) (uintptr, error) {
		if f != nil {
			return f.Fd(), nil
		}
		if devNull == nil {
			var err error
			if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
				return 0, err
			}
		}
		return devNull.Fd(), nil
	}
	defer func() {
		if devNull != nil {
			_ = devNull.Close()
		}
	}()

	files := make([]uintptr, 0, 3+len(a.ExtraFiles))
	for _, f := range []*os.File{a.Stdin, a.Stdout, a.Stderr} {
		fd, err := stdio(f)
		if err != nil {
			return 0, fmt.Errorf("spawn %s: %w", path, err)
		}
		files = append(files, fd)
	}
	for _, f := range a.ExtraFiles {
		if f == nil {
			files = append(files, ^uintptr(0)) // -1: closed in the child
			continue
		}
		files = append(files, f.Fd())
	}

	// Hold reaped across fork and forget: a concurrent Reap that collects
	// this very child can only record it after the stale entry is gone.
	reaped.Lock()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir:   a.Dir,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: a.Setsid},
	})
	if err == nil {
		delete(reaped.status, pid)
	}
	reaped.Unlock()
	runtime.KeepAlive(a.Stdin)
	runtime.KeepAlive(a.Stdout)
	runtime.KeepAlive(a.Stderr)
	runtime.KeepAlive(a.ExtraFiles)
	if err != nil {
		return 0, fmt.Errorf("spawn %s: %w", path, err)
	}
	return pid, nil
}

// Daemon starts a detached server for `ctl start`: a new session (Setsid),
// stdin from /dev/null, stdout and stderr appended to logFile (created 0600:
// logs may carry tokens or paths). env nil means os.Environ(). The working
// directory is kept, so relative paths in argv still mean what the caller
// meant. The caller normally exits soon after; the child is then reparented
// and nobody needs to reap it.
func Daemon(path string, argv []string, env []string, logFile string) (int, error) {
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("spawn %s: log: %w", path, err)
	}
	defer func() { _ = log.Close() }()
	return Spawn(path, argv, Attr{Env: env, Stdout: log, Stderr: log, Setsid: true})
}

// Run spawns path and waits for it. If ctx ends first the child is killed
// (SIGKILL) and reaped, and ctx's error is returned. It exists so one-shot
// helpers (sv, dpkg, am) need neither the exec package nor their own reaping.
func Run(ctx context.Context, path string, argv []string, a Attr) (syscall.WaitStatus, error) {
	pid, err := Spawn(path, argv, a)
	if err != nil {
		return 0, err
	}
	ws, err := Wait(ctx, pid)
	if err != nil && ctx.Err() != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		// SIGKILL cannot be caught; it is gone within moments.
		kctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = Wait(kctx, pid)
	}
	return ws, err
}

// LookPath finds an executable named file in $PATH, as exec.LookPath does
// (which we cannot import). A name containing a slash is checked as is.
func LookPath(file string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("look path %s: %w", file, err)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("look path %s: %w", file, fs.ErrNotExist)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}

// Reap collects every exited child without blocking (a wait4(-1, WNOHANG)
// loop) so none lingers as a zombie, and returns pid -> status of what it
// collected (nil if nothing). It takes all our children, including ones
// another goroutine is Waiting for; Wait still finds their status.
func Reap() map[int]syscall.WaitStatus {
	var out map[int]syscall.WaitStatus
	for {
		var ws syscall.WaitStatus
		reaped.Lock()
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == nil && pid > 0 {
			remember(pid, ws)
		}
		reaped.Unlock()
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return out
		}
		if out == nil {
			out = map[int]syscall.WaitStatus{}
		}
		out[pid] = ws
	}
}

// reapOne collects pid if it is our child and has exited.
func reapOne(pid int) (syscall.WaitStatus, bool, error) {
	for {
		var ws syscall.WaitStatus
		reaped.Lock()
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err == nil && got == pid {
			remember(pid, ws)
		}
		if err == syscall.ECHILD {
			if old, ok := reaped.status[pid]; ok {
				reaped.Unlock()
				return old, true, nil
			}
		}
		reaped.Unlock()
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, false, err
		case got == pid:
			return ws, true, nil
		default:
			return 0, false, nil
		}
	}
}

// Wait waits for the child pid (one we spawned) to exit and returns its
// status. It polls wait4(pid, WNOHANG) every few ms rather than blocking in
// wait4, so ctx can cancel it and no goroutine is left stuck in a syscall.
func Wait(ctx context.Context, pid int) (syscall.WaitStatus, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("wait %d: invalid pid", pid)
	}
	delay := time.Millisecond
	var t *time.Timer
	for {
		ws, done, err := reapOne(pid)
		if err != nil {
			return 0, fmt.Errorf("wait %d: %w", pid, err)
		}
		if done {
			return ws, nil
		}
		if t == nil {
			t = time.NewTimer(delay)
			defer t.Stop()
		} else {
			t.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait %d: %w", pid, ctx.Err())
		case <-t.C:
		}
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// procStat is the part of /proc/<pid>/stat we use.
type procStat struct {
	state      byte   // field 3: R, S, D, Z, X, ...
	ppid       int    // field 4
	pgrp       int    // field 5
	session    int    // field 6
	startTicks uint64 // field 22: start time, clock ticks since boot
}

// readStat parses /proc/<pid>/stat. comm (field 2) may hold spaces and ')',
// so fields are counted from after the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

func parseStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse stat: no ')' in %q", s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse stat: short line %q", s)
	}
	var st procStat
	var err error
	st.state = f[0][0]
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("parse stat: ppid: %w", err)
	}
	if st.pgrp, err = strconv.Atoi(f[2]); err != nil {
		return procStat{}, fmt.Errorf("parse stat: pgrp: %w", err)
	}
	if st.session, err = strconv.Atoi(f[3]); err != nil {
		return procStat{}, fmt.Errorf("parse stat: session: %w", err)
	}
	if st.startTicks, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse stat: starttime: %w", err)
	}
	return st, nil
}

// StartTicks returns field 22 (starttime, clock ticks since boot) of
// /proc/<pid>/stat. A pid plus its start time names one process: a reused
// pid has a different start time.
func StartTicks(pid int) (uint64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("start ticks %d: invalid pid", pid)
	}
	st, err := readStat(pid)
	if err != nil {
		return 0, fmt.Errorf("start ticks %d: %w", pid, err)
	}
	return st.startTicks, nil
}

// SameProcess reports whether pid still runs the process that started at
// startTicks (StartTicks), not another that reused the pid. With
// startTicks 0 (unknown), or a start time /proc hides, being Alive is
// enough.
func SameProcess(pid int, startTicks uint64) bool {
	if !Alive(pid) {
		return false
	}
	if startTicks == 0 {
		return true
	}
	t, err := StartTicks(pid)
	return err != nil || t == startTicks
}

// Alive reports whether pid exists and is not a zombie. kill(pid, 0) says
// whether it exists (EPERM: it does, but is not ours); /proc/<pid>/stat says
// whether it is a zombie, which kill cannot tell. When the process exists but
// /proc hides it (Android mounts /proc with hidepid for other users), it
// counts as alive.
func Alive(pid int) bool {
	if pid <= 0 { // kill(0 or -n, ...) means process groups: never ask that
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && err != syscall.EPERM {
		return false
	}
	st, serr := readStat(pid)
	if serr != nil {
		// Ours and now unreadable: it went away between the two looks.
		return err == syscall.EPERM
	}
	return st.state != 'Z' && st.state != 'X'
}

// WaitGone waits until pid is gone (not Alive: exited, even if not yet
// reaped) or ctx ends, checking every interval.
func WaitGone(ctx context.Context, pid int, interval time.Duration) error {
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for Alive(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d to exit: %w", pid, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Terminate asks pid to stop with SIGTERM, waits up to grace for it to be
// gone, and otherwise sends SIGKILL and waits a little more. killed reports
// whether SIGKILL was needed. If pid is our child it is reaped too. An
// already-gone pid is not an error.
func Terminate(ctx context.Context, pid int, grace time.Duration) (killed bool, err error) {
	if pid <= 0 {
		return false, fmt.Errorf("terminate %d: invalid pid", pid)
	}
	if pid == os.Getpid() {
		return false, fmt.Errorf("terminate %d: that is us", pid)
	}
	defer func() { _, _, _ = reapOne(pid) }()
	if !Alive(pid) {
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if err == syscall.ESRCH {
			return false, nil
		}
		return false, fmt.Errorf("terminate %d: %w", pid, err)
	}
	gctx, cancel := context.WithTimeout(ctx, grace)
	err = WaitGone(gctx, pid, 10*time.Millisecond)
	cancel()
	if err == nil {
		return false, nil
	}
	if ctx.Err() != nil {
		return false, fmt.Errorf("terminate %d: %w", pid, ctx.Err())
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		if err == syscall.ESRCH {
			return false, nil // exited just as the grace ran out
		}
		return true, fmt.Errorf("terminate %d: kill: %w", pid, err)
	}
	// SIGKILL cannot be caught; only uninterruptible sleep (D) delays it.
	kctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := WaitGone(kctx, pid, 5*time.Millisecond); err != nil {
		return true, fmt.Errorf("terminate %d: still alive after SIGKILL: %w", pid, err)
	}
	return true, nil
}
