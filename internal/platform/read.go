package platform

import (
	"errors"

	"github.com/termux-webui/webui/internal/rawfile"
)

// maxRead bounds every file read; /proc files and build.prop are far smaller.
const maxRead = 512 << 10

// readSmall reads at most maxRead bytes of a regular file. Anything else (a
// directory, a FIFO that could block, a device) counts as unreadable.
func readSmall(name string) ([]byte, bool) {
	f, err := rawfile.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := f.ReadAll(maxRead)
	if err != nil && !errors.Is(err, rawfile.ErrTooLarge) {
		return nil, false
	}
	return b, true
}
