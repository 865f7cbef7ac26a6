package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/logging"
)

// BenchmarkAssetCSS is one GET /assets/app.css through every middleware,
// as a release server answers it, with the access log on and off.
func BenchmarkAssetCSS(b *testing.B) {
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "log-on", false: "log-off"}[on]
		b.Run(name, func(b *testing.B) { benchGet(b, on, "/assets/app.css") })
	}
}

// BenchmarkHealth is one shallow GET /health through every middleware,
// as the watchdog and make bench ask it.
func BenchmarkHealth(b *testing.B) { benchGet(b, true, "/health") }

// benchGet answers GET path over and over through a release server's
// handler, with its access log on or off.
func benchGet(b *testing.B, logOn bool, path string) {
	lg, err := logging.New(logging.Options{Dir: b.TempDir(), Level: "info", MaxSizeMB: 100, MaxFiles: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	h := NewServer(Deps{Config: &config.Config{StateDir: b.TempDir(), AccessLog: logOn, StallAfter: time.Second}, Log: lg, Started: time.Now()})
	req := httptest.NewRequest("GET", "http://127.0.0.1:8787"+path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return len(p), nil
}

// ReadFrom copies through a pooled buffer, as net/http's response does.
func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	w.WriteHeader(200)
	return io.Copy(io.Discard, r)
}
