// Package logging sets up webui's logrus logger: human-readable text on the
// terminal (stderr) and JSON lines in a size-capped, rotated log file, so a
// phone's small storage never fills with logs.
package logging

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the log file's name inside the log dir.
const FileName = "webui.log"

// Options describe where logs go.
type Options struct {
	Dir       string // "" = no log file
	Level     string
	MaxSizeMB int
	MaxFiles  int
	Stderr    io.Writer // nil = no terminal output
}

// Logger is a logrus logger plus the rotated file behind it.
type Logger struct {
	*logrus.Logger
	file *lumberjack.Logger
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
	lg := &Logger{Logger: l}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("log dir %s: %w", o.Dir, unwrap(err))
		}
		lg.file = &lumberjack.Logger{
			Filename:   filepath.Join(o.Dir, FileName),
			MaxSize:    o.MaxSizeMB,
			MaxBackups: o.MaxFiles,
			Compress:   false,
		}
		l.AddHook(&fileHook{w: lg.file, f: &logrus.JSONFormatter{TimestampFormat: "2006-01-02T15:04:05.000Z07:00"}})
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

// Close flushes and closes the log file.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
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
	w io.Writer
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
