package health

import (
	"errors"
	"io"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawReader reads the Prober's connection with raw system calls, no more
// than the probe may still read.
//
// A read or write made the usual way enters the scheduler's system-call
// state, and in an idle process that wakes the runtime's monitor thread
// (sysmon), which then polls every 20 µs for as long as the process
// runs. The socket is non-blocking, so these calls never block; one that
// would waits in the runtime's poller, deadlines included, as net.Conn's
// does.
type rawReader struct{ p *Prober }

// errTooLarge: the answer went on past maxAnswer.
var errTooLarge = errors.New("the answer is larger than a health document")

func (r rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if r.p.left <= 0 {
		return 0, errTooLarge
	}
	n, err := rawRead(r.p.rc, b[:min(len(b), r.p.left)])
	r.p.left -= n
	return n, err
}

// rawRead reads into b once, as net.Conn's Read: io.EOF at the end, the
// errno otherwise, or the poller's error (a deadline, a closed socket).
func rawRead(rc syscall.RawConn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n uintptr
	var errno syscall.Errno
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, _, errno = unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			if errno != unix.EINTR {
				return errno != unix.EAGAIN
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

// rawWrite writes all of b, or says why not after n bytes. MSG_NOSIGNAL: a
// peer gone meanwhile is an EPIPE, not a SIGPIPE.
func rawWrite(rc syscall.RawConn, b []byte) (int, error) {
	done := 0
	for done < len(b) {
		var n uintptr
		var errno syscall.Errno
		err := rc.Write(func(fd uintptr) bool {
			for {
				p := b[done:]
				n, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
				if errno != unix.EINTR {
					return errno != unix.EAGAIN
				}
			}
		})
		if err != nil {
			return done, err
		}
		if errno != 0 {
			return done, errno
		}
		done += int(n)
	}
	return done, nil
}
