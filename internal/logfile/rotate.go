package logfile

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// CopyTruncate rotates the file at path once it is larger than limit: it
// becomes path.1 (older copies shift up to path.keep) and path is emptied
// in place. A running writer keeps its fd to path, so the file cannot be
// renamed away: the writer would go on writing into the renamed file. It
// is copied, then truncated. That is correct for an O_APPEND writer: its
// next write goes to the new end (offset 0), leaving no hole of zeros,
// which a plain-offset writer would leave. Lines written between the copy
// and the truncate are lost; the window is one copy long.
func CopyTruncate(path string, limit int64, keep int) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() <= limit {
		return nil
	}
	keep = max(keep, 1)
	for i := keep; i > 1; i-- {
		_ = os.Rename(path+"."+strconv.Itoa(i-1), path+"."+strconv.Itoa(i))
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".1", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rotate %s: %w", path, err)
	}
	return os.Truncate(path, 0)
}
