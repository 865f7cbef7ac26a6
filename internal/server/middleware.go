package server

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/diag"
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

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
			e := log.WithFields(logrus.Fields{
				"method": r.Method,
				"path":   r.URL.Path,
				"status": status,
				"bytes":  sw.bytes,
				"dur_ms": float64(time.Since(start).Microseconds()) / 1000,
				"remote": r.RemoteAddr,
			})
			// A healthy /health is what the watchdog polls every few
			// seconds: at info level it would be most of the log.
			if r.URL.Path == "/health" && status == http.StatusOK {
				e.Debug("request")
			} else {
				e.Info("request")
			}
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

// track registers each request as in flight while it runs.
func track(f *Inflight, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := f.add(InflightRequest{
			Method:  r.Method,
			Path:    r.URL.Path,
			Remote:  r.RemoteAddr,
			Started: time.Now(),
			Stream:  strings.Contains(r.Header.Get("Accept"), "text/event-stream") || r.URL.Query().Get("stream") == "1",
		})
		defer f.done(id)
		next.ServeHTTP(w, r)
	})
}
