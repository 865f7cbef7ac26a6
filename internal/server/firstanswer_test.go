package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The announcement waits for the first answer, and no longer than its
// bound when nobody asks.
func TestFirstAnswer(t *testing.T) {
	f := newFirstAnswer()
	h := f.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	begin := time.Now()
	f.wait(20 * time.Millisecond)
	if d := time.Since(begin); d < 20*time.Millisecond {
		t.Fatalf("returned after %s with no answer", d)
	}
	answered := make(chan time.Time, 1)
	go func() {
		time.Sleep(10 * time.Millisecond)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/health", nil))
		answered <- time.Now()
	}()
	begin = time.Now()
	f.wait(time.Minute)
	end := time.Now()
	if d := end.Sub(begin); d > 30*time.Second {
		t.Fatalf("waited %s for an answer given after 10ms", d)
	}
	// The answer's client gets its moment before the announcement.
	if d := end.Sub(<-answered); d < readGrace/2 {
		t.Fatalf("returned %s after the answer; want about %s", d, readGrace)
	}
	// Later answers pass straight through.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/health", nil))
	if w.Body.String() != "ok" {
		t.Fatalf("second answer: %q", w.Body.String())
	}
	f.wait(time.Minute)
}
