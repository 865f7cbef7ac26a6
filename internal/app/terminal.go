package app

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminal returns the file behind v (a command's stdin, stdout or stderr)
// and its terminal settings, when it is a terminal.
func terminal(v any) (*os.File, *unix.Termios, bool) {
	f, ok := v.(*os.File)
	if !ok {
		return nil, nil, false
	}
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return nil, nil, false
	}
	return f, t, true
}

// isTerminal reports whether v is a terminal.
func isTerminal(v any) bool {
	_, _, ok := terminal(v)
	return ok
}
