package harness

import (
	"bytes"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// SyncBuffer collects a process's output from several goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Proc is one started process.
type Proc struct {
	Cmd  *exec.Cmd
	Out  *SyncBuffer // its stdout and stderr, unless the caller set them
	done chan struct{}
	err  error
}

// Start starts cmd. With neither Stdout nor Stderr set, both go to Out.
func Start(cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Cmd: cmd, Out: &SyncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil && cmd.Stderr == nil {
		cmd.Stdout, cmd.Stderr = p.Out, p.Out
	}
	// Processes a restart starts inherit the stdio pipes: don't let them
	// keep Wait from returning once the process itself has exited.
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is Wait's error, once Done is closed.
func (p *Proc) Err() error { return p.err }

// Alive reports whether the process has not exited yet.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Stop sends sig and waits up to d, then SIGKILLs and waits.
func (p *Proc) Stop(sig syscall.Signal, d time.Duration) {
	if !p.Alive() {
		return
	}
	_ = p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Status is the exit code, or -1 and the signal that ended the process.
// Call it once Done is closed.
func (p *Proc) Status() (code int, sig syscall.Signal) {
	ws := p.Cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -1, ws.Signal()
	}
	return ws.ExitStatus(), 0
}

// PIDAlive reports whether a process (not necessarily our child) exists.
func PIDAlive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// StopPID ends a process that is not our child: SIGTERM, then SIGKILL.
func StopPID(pid int, d time.Duration) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(d)
	for PIDAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if PIDAlive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
