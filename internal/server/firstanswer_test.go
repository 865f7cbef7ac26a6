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
	go func() {
		time.Sleep(10 * time.Millisecond)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/health", nil))
	}()
	begin = time.Now()
	f.wait(time.Minute)
	if d := time.Since(begin); d > 30*time.Second {
		t.Fatalf("waited %s for an answer given after 10ms", d)
	}
	// Later answers pass straight through.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/health", nil))
	if w.Body.String() != "ok" {
		t.Fatalf("second answer: %q", w.Body.String())
	}
	f.wait(time.Minute)
}
