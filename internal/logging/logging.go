// Package logging sets up webui's logrus logger: human-readable text on the
// terminal (stderr) and JSON lines in a size-capped, rotated log file, so a
// phone's small storage never fills with logs. File lines below warning
// level are buffered for at most Options.FlushEvery (see bufferedWriter).
package logging

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/termux-webui/webui/internal/paths"
)

// Options describe where logs go.
type Options struct {
	Dir       string // "" = no log file
	Level     string
	MaxSizeMB int
	MaxFiles  int
	Stderr    io.Writer // nil = no terminal output
	// FlushEvery bounds how long an info or debug line waits in memory
	// before it is written to the file; 0 is DefaultFlushEvery.
	FlushEvery time.Duration
}

// Logger is a logrus logger plus the rotated file behind it.
type Logger struct {
	*logrus.Logger
	file *lumberjack.Logger
	buf  *bufferedWriter
	// fileOnly: no terminal output, so an access line can be formatted
	// straight into the file buffer (see Access).
	fileOnly bool
}

// New builds the logger. The file is opened lazily by lumberjack, but the
// directory is created here so a bad log_dir is reported at startup.
func New(o Options) (*Logger, error) {
	l := logrus.New()
	lvl, err := logrus.ParseLevel(o.Level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	l.SetLevel(lvl)
	// Without a terminal, logrus would still format every entry as text
	// only to throw it away: skip that work.
	l.Out = io.Discard
	l.Formatter = discardFormatter{}
	if o.Stderr != nil {
		l.Out = o.Stderr
		l.Formatter = &logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000"}
	}
	lg := &Logger{Logger: l, fileOnly: o.Stderr == nil}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("log dir %s: %w", o.Dir, unwrap(err))
		}
		lg.file = &lumberjack.Logger{
			Filename:   paths.Log(o.Dir).Server(),
			MaxSize:    o.MaxSizeMB,
			MaxBackups: o.MaxFiles,
			Compress:   false,
		}
		every := o.FlushEvery
		if every <= 0 {
			every = DefaultFlushEvery
		}
		lg.buf = newBufferedWriter(lg.file, every)
		l.AddHook(&fileHook{w: lg.buf, f: lineFormatter{ref: &logrus.JSONFormatter{TimestampFormat: timeFormat}}})
	}
	return lg, nil
}

// Path is the current log file, or "".
func (l *Logger) Path() string {
	if l.file == nil {
		return ""
	}
	return l.file.Filename
}

// timeFormat is the file's timestamp layout.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Flush writes out the buffered file lines now: before an exec replaces
// the process image, which would lose them.
func (l *Logger) Flush() {
	if l.buf != nil {
		l.buf.Flush()
	}
}

// Close flushes and closes the log file.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
	l.buf.Close()
	return l.file.Close()
}

// ErrorLogWriter adapts net/http's error log to the logger at warn level.
func (l *Logger) ErrorLogWriter(source string) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		l.WithField("source", source).Warn(strings.TrimSpace(string(p)))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// fileHook writes every entry as a JSON line. Write errors (a full disk) are
// dropped: logging must never take the server down.
type fileHook struct {
	w *bufferedWriter
	f logrus.Formatter
}

func (h *fileHook) Levels() []logrus.Level { return logrus.AllLevels }

// hookBuffers hold the file hook's formatted lines between entries: the
// JSON formatter writes into an entry's Buffer when it has one, which logrus
// only sets after the hooks have run.
var hookBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *fileHook) Fire(e *logrus.Entry) error {
	buf := hookBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	saved := e.Buffer
	e.Buffer = buf
	b, err := h.f.Format(e)
	e.Buffer = saved
	if err == nil {
		_, _ = h.w.Write(b)
		if e.Level <= logrus.WarnLevel {
			h.w.Flush() // what went wrong is on disk before anything else happens
		}
	}
	if buf.Cap() <= 64<<10 {
		hookBuffers.Put(buf)
	}
	return nil
}

// discardFormatter formats nothing, for a logger whose text output goes
// nowhere.
type discardFormatter struct{}

func (discardFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
