package apps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/termux-webui/webui/internal/logfile"
	"github.com/termux-webui/webui/internal/paths"
)

// Log defaults: rotate at 10 MiB, keep 3 old files (NAME.log.1 newest).
const (
	DefaultLogMaxBytes = 10 << 20
	DefaultLogKeep     = 3
)

// LogFile is the app's one log: its stdout and stderr both, in the order
// written (fds 1 and 2 of the app are the same O_APPEND file).
func (s *Supervisor) LogFile(name string) string {
	return paths.Log(s.cfg.LogDir).AppLog(name)
}

// openLog opens the app's log for its fds 1 and 2. O_APPEND: every write
// lands at the end, whoever else writes or truncates, so rotation by
// copy-then-truncate is safe (see logfile.CopyTruncate). 0600: logs may
// carry secrets.
func (s *Supervisor) openLog(name string) (*os.File, error) {
	path := s.LogFile(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// Logs prints the last n lines of the app's log through emit and, with
// follow, what is appended afterwards until ctx ends (`webui app logs NAME
// [-n N] [-f]`), across its rotation (see logfile.Tail).
func (s *Supervisor) Logs(ctx context.Context, name string, n int, follow bool, emit func(string)) error {
	if _, ok := s.app(name); !ok {
		return fmt.Errorf("no app %q", name)
	}
	if err := logfile.Tail(ctx, s.LogFile(name), logfile.Options{Lines: n, Follow: follow}, emit); err != nil {
		return fmt.Errorf("app %s logs: %w", name, err)
	}
	return nil
}

// tail is the last n lines of a log file, for a lifetime record; a long
// line is cut.
func tail(path string, n int) []string {
	lines := logfile.Last(path, 0, n)
	for i, l := range lines {
		if len(l) > 500 {
			lines[i] = l[:500] + "..."
		}
	}
	return lines
}
