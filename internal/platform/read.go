package platform

import "syscall"

// maxRead bounds every file read; /proc files and build.prop are far smaller.
const maxRead = 512 << 10

// readSmall reads at most maxRead bytes of a regular file. Anything else (a
// directory, a FIFO that could block, a device) counts as unreadable.
func readSmall(name string) ([]byte, bool) {
	// By hand: os.Open would try the file on the network poller and undo
	// that, five system calls for each of the files a start reads here.
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, false
	}
	buf := make([]byte, 0, 1024)
	for len(buf) < maxRead {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):min(cap(buf), maxRead)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, true
}
