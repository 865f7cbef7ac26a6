// Package rawconn reads and writes a socket with raw system calls through
// the runtime's network poller.
//
// A read or write made the usual way enters the scheduler's system-call
// state, and in an idle process that wakes the runtime's monitor thread
// (sysmon), which then polls every 20 µs for as long as the process runs:
// for a process that answers or sends a probe every half minute, most of
// what that exchange cost. Sockets are non-blocking, so these calls never
// block; one that would waits in the poller, deadlines included, as
// net.Conn's does.
package rawconn

import (
	"io"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IO reads and writes one socket. Safe for concurrent use: reads take
// turns, and so do writes, as on a net.Conn.
type IO struct {
	rc   syscall.RawConn
	r, w op
}

// op is one direction's state: sysno is read(2) or write(2), as
// net.Conn's (to a peer gone meanwhile a write is an EPIPE, and the
// kernel's SIGPIPE with it is the runtime's to ignore and diag's trap to
// count). call is bound once, in New, so that a read or write allocates
// nothing.
type op struct {
	mu    sync.Mutex
	sysno uintptr
	b     []byte
	n     uintptr
	errno syscall.Errno
	call  func(fd uintptr) bool
}

// New does raw I/O on rc's socket.
func New(rc syscall.RawConn) *IO {
	x := &IO{rc: rc}
	x.r.sysno, x.w.sysno = unix.SYS_READ, unix.SYS_WRITE
	x.r.call, x.w.call = x.r.once, x.w.once
	return x
}

// once is one system call on o.b; false asks the poller to wait until
// the socket is ready.
func (o *op) once(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall(o.sysno, fd, uintptr(unsafe.Pointer(&o.b[0])), uintptr(len(o.b)))
		if e != unix.EINTR {
			o.n, o.errno = n, e
			return e != unix.EAGAIN
		}
	}
}

// Read reads into b once, as net.Conn's Read: io.EOF at the end, the
// errno otherwise, or the poller's error (a deadline, a closed socket).
func (x *IO) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	o := &x.r
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b = b
	err := x.rc.Read(o.call)
	o.b = nil
	switch {
	case err != nil:
		return 0, err
	case o.errno != 0:
		return 0, o.errno
	case o.n == 0:
		return 0, io.EOF
	}
	return int(o.n), nil
}

// Write writes all of b, or says why not after the bytes it returns.
func (x *IO) Write(b []byte) (int, error) {
	o := &x.w
	o.mu.Lock()
	defer o.mu.Unlock()
	defer func() { o.b = nil }()
	done := 0
	for done < len(b) {
		o.b = b[done:]
		if err := x.rc.Write(o.call); err != nil {
			return done, err
		}
		if o.errno != 0 {
			return done, o.errno
		}
		if o.n == 0 {
			return done, io.ErrShortWrite // a stream socket never writes 0 bytes of a non-empty buffer
		}
		done += int(o.n)
	}
	return done, nil
}
