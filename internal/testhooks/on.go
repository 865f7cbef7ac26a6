//go:build webuitest

// Package testhooks adds routes that let the integration tests provoke what
// is otherwise hard to cause (panics, fatal errors, huge or slow responses).
// They exist only in binaries built with -tags webuitest; a release binary
// has none of them.
package testhooks

import (
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/platform"
)

// chunk is what /_test/big sends, made once so that the route measures
// the server rather than its own byte generator.
var chunk = func() []byte {
	b := make([]byte, 32<<10)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}()

// Routes adds the /_test/ routes.
var Routes = func(r *mux.Router, log logrus.FieldLogger) {
	r.HandleFunc("/_test/big", func(w http.ResponseWriter, req *http.Request) {
		size, _ := strconv.Atoi(req.URL.Query().Get("size"))
		if size <= 0 {
			size = 4 << 20
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for size > 0 {
			n := min(size, len(chunk))
			if _, err := w.Write(chunk[:n]); err != nil {
				return // the client went away: EPIPE/ECONNRESET, not a crash
			}
			size -= n
		}
	})
	r.HandleFunc("/_test/slow", func(w http.ResponseWriter, req *http.Request) {
		d, _ := time.ParseDuration(req.URL.Query().Get("d"))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if _, err := w.Write([]byte("tick\n")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
		_, _ = w.Write([]byte("done\n"))
	})
	r.HandleFunc("/_test/log", func(w http.ResponseWriter, req *http.Request) {
		n, _ := strconv.Atoi(req.URL.Query().Get("n"))
		for i := 0; i < n; i++ {
			log.WithField("i", i).Info("test log line")
		}
		_, _ = w.Write([]byte("logged\n"))
	})
	r.HandleFunc("/_test/panic", func(w http.ResponseWriter, req *http.Request) {
		panic("test handler panic")
	})
	r.HandleFunc("/_test/gopanic", func(w http.ResponseWriter, req *http.Request) {
		diag.Go("test background", func() { panic("test background goroutine panic") })
		_, _ = w.Write([]byte("spawned\n"))
	})
	r.HandleFunc("/_test/crash", func(w http.ResponseWriter, req *http.Request) {
		_, _ = w.Write([]byte("crashing\n"))
		w.(http.Flusher).Flush()
		go func() { panic("test unrecovered panic") }()
	})
	r.HandleFunc("/_test/fatal", func(w http.ResponseWriter, req *http.Request) {
		_, _ = w.Write([]byte("fatal\n"))
		w.(http.Flusher).Flush()
		m := map[int]int{}
		for i := 0; i < 8; i++ {
			go func() {
				for j := 0; ; j++ {
					m[j%100] = j
				}
			}()
		}
	})
}

// PlatformEnv lets tests describe another platform to the real binary:
// WEBUI_TEST_PROC_ROOT and WEBUI_TEST_FS_ROOT point detection at fake
// /proc and / trees written in the real formats, WEBUI_TEST_GOOS overrides
// GOOS.
func PlatformEnv(e platform.Env) platform.Env {
	if v := os.Getenv("WEBUI_TEST_PROC_ROOT"); v != "" {
		e.ProcRoot = v
	}
	if v := os.Getenv("WEBUI_TEST_FS_ROOT"); v != "" {
		e.FSRoot = v
	}
	if v := os.Getenv("WEBUI_TEST_GOOS"); v != "" {
		e.GOOS = v
	}
	return e
}

// LogFlushEvery is WEBUI_TEST_LOG_FLUSH: a long interval lets a test see
// which lines only an explicit flush (exit, exec) writes out.
func LogFlushEvery() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("WEBUI_TEST_LOG_FLUSH"))
	return d
}

// FreezeWatch: WEBUI_TEST_FREEZE_WATCH=off turns the freeze watcher off, so
// a benchmark can measure what it costs against a server without it.
func FreezeWatch() bool { return os.Getenv("WEBUI_TEST_FREEZE_WATCH") != "off" }
