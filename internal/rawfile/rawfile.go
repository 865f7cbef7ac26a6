// Package rawfile reads small regular files by hand, for what a start
// reads before it can answer: os.Open tries every file on the network
// poller and undoes that, five more system calls for each. The descriptor
// is opened with O_NONBLOCK, so a FIFO in a file's place does not wait
// for a writer; it is refused like anything else that is not a regular
// file.
package rawfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// ErrTooLarge: the file holds more than the reader's bound.
var ErrTooLarge = errors.New("file too large")

// File is an open regular file and what fstat said of it.
type File struct {
	fd   int
	name string
	st   syscall.Stat_t
}

// Open opens name for reading. A missing file is an error that
// errors.Is(err, fs.ErrNotExist) recognises.
func Open(name string) (*File, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f := &File{fd: fd, name: name}
	if err := syscall.Fstat(fd, &f.st); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if f.st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return f, nil
}

// Close closes the file.
func (f *File) Close() error { return syscall.Close(f.fd) }

// Perm is the file's permission bits.
func (f *File) Perm() fs.FileMode { return fs.FileMode(f.st.Mode & 0o777) }

// Chmod sets the permission bits through the open descriptor: it changes
// the very file that was opened, whatever its path names meanwhile.
func (f *File) Chmod(perm fs.FileMode) error {
	if err := syscall.Fchmod(f.fd, uint32(perm.Perm())); err != nil {
		return &fs.PathError{Op: "chmod", Path: f.name, Err: err}
	}
	return nil
}

// ID tells one version of a file from another: inode, size and mtime as
// fstat gave them at Open.
type ID struct {
	Ino, Size int64
	Mtime     time.Time
}

// ID is the opened file's identity.
func (f *File) ID() ID { return IDOf(&f.st) }

// IDOf is the identity in st (from stat or fstat).
func IDOf(st *syscall.Stat_t) ID {
	return ID{Ino: int64(st.Ino), Size: st.Size, Mtime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))}
}

// ReadAll reads the file to its end, at most limit bytes. A longer file
// gives its first limit bytes and ErrTooLarge.
func (f *File) ReadAll(limit int) ([]byte, error) {
	buf := make([]byte, 0, min(limit, max(512, int(f.st.Size)+1)))
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				var one [1]byte
				if n, _ := syscall.Read(f.fd, one[:]); n > 0 {
					return buf, ErrTooLarge
				}
				return buf, nil
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(f.fd, buf[len(buf):min(cap(buf), limit)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// OpenFile is os.OpenFile for a regular file, without the poller round
// trip (close-on-exec, as os.OpenFile). The file is not on the poller,
// which a regular file never is anyway.
func OpenFile(name string, flag int, perm uint32) (*os.File, error) {
	fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}
