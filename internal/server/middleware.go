package server

import (
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/logging"
)

// statusWriter records the status and size of a response. It keeps Flush and
// Unwrap so streaming handlers and http.ResponseController still work.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the response's own ReadFrom reachable: without it
// http.ServeContent copies every file through a fresh 32 KiB buffer.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(r)
		w.bytes += n
		return n, err
	}
	return io.Copy(writerOnly{w}, r)
}

// writerOnly hides ReadFrom, so io.Copy does not call back into it.
type writerOnly struct{ io.Writer }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLogger writes access lines without logrus's per-entry maps
// (internal/logging).
type accessLogger interface {
	Access(logrus.Level, logging.AccessLine)
}

// accessLog writes one line per request: method, path, status, bytes, duration.
func accessLog(log logrus.FieldLogger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			// A healthy /health is what the watchdog polls every few
			// seconds: at info level it would be most of the log.
			lvl := logrus.InfoLevel
			if r.URL.Path == "/health" && status == http.StatusOK {
				lvl = logrus.DebugLevel
			}
			if l, ok := log.(interface{ IsLevelEnabled(logrus.Level) bool }); ok && !l.IsLevelEnabled(lvl) {
				return // don't build an entry nobody writes
			}
			end := time.Now()
			dur := float64(end.Sub(start).Microseconds()) / 1000
			if al, ok := log.(accessLogger); ok {
				al.Access(lvl, logging.AccessLine{Method: r.Method, Path: r.URL.Path, Status: status, Bytes: sw.bytes, DurMs: dur, Remote: r.RemoteAddr, At: end})
				return
			}
			log.WithFields(logrus.Fields{
				"method": r.Method,
				"path":   r.URL.Path,
				"status": status,
				"bytes":  sw.bytes,
				"dur_ms": dur,
				"remote": r.RemoteAddr,
			}).Log(lvl, "request")
		}()
		next.ServeHTTP(sw, r)
	})
}

// recoverPanics turns a handler panic into a 500 and a diagnostics record.
// net/http would recover it too, but only into its error log.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the deliberate way to abort a response
			}
			diag.ReportPanic(fmt.Sprintf("http %s %s", r.Method, r.URL.Path), v, debug.Stack())
			writeError(w, http.StatusInternalServerError, "internal error: the server recorded it for `webui diagnose`")
		}()
		next.ServeHTTP(w, r)
	})
}

// acceptsStream: the first Accept value, as Header.Get gives it, asks for
// server-sent events.
func acceptsStream(accept []string) bool {
	return len(accept) > 0 && strings.Contains(accept[0], "text/event-stream")
}

// track registers each request as in flight while it runs.
func track(f *Inflight, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := f.add(InflightRequest{
			Method:  r.Method,
			Path:    r.URL.Path,
			Remote:  r.RemoteAddr,
			Started: time.Now(),
			Stream: acceptsStream(r.Header["Accept"]) || // canonical key: Get would canonicalise it again
				r.URL.RawQuery != "" && r.URL.Query().Get("stream") == "1", // Query allocates a map even for none
		})
		defer f.done(id)
		next.ServeHTTP(w, r)
	})
}
