package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/termux-webui/webui/internal/exitcode"
)

// Listen opens the listening socket, with a one-line error that says what to
// do when the port is taken.
func Listen(addr string) (net.Listener, error) {
	ln, err := listenTCP(addr)
	if err == nil {
		return ln, nil
	}
	var se *os.SyscallError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, syscall.EADDRINUSE):
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: address already in use (is webui already running? `webui ctl status`; or choose another port with --addr)", addr)
	case errors.As(err, &se) && errors.Is(se.Err, syscall.EACCES):
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: permission denied (ports below 1024 need privileges; use a port such as 8787)", addr)
	default:
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: %v", addr, err)
	}
}

// listenTCP listens on addr. An IPv4 address (the default 127.0.0.1, or
// 0.0.0.0) gets its socket by hand: the net package first reads the
// kernel's backlog limit from /proc, a fifth of the time a start takes to
// listen; listen(2) caps the backlog at that limit itself. Names, IPv6 and
// the empty host (dual stack) go through the net package.
func listenTCP(addr string) (net.Listener, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		// Plain TCP: Go offers Multipath TCP on Linux listeners by default,
		// and finding out whether the kernel has it opens probe sockets on
		// the way to the first answer. A phone's local server has one path.
		var lc net.ListenConfig
		lc.SetMultipathTCP(false)
		return lc.Listen(context.Background(), "tcp", addr)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // FileListener keeps a duplicate
	// As the net package: a restarted server binds at once, whatever
	// connections of its predecessor linger in TIME_WAIT.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return nil, os.NewSyscallError("setsockopt", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	if err := syscall.Listen(fd, 1<<16-1); err != nil {
		return nil, os.NewSyscallError("listen", err)
	}
	return net.FileListener(f)
}
