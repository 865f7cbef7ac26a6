package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// The routes answered before the router behave as the router answers
// them: every middleware still applies, other methods and unclean paths
// get the router's answer, and a conditional GET its 304.
func TestHotRoutesAnswerAsTheRouter(t *testing.T) {
	h := NewServer(testDeps(t))
	get := func(method, target, host string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get("GET", "/assets/app.css", "localhost:8787")
	etag := w.Header().Get("ETag")
	if w.Code != 200 || etag == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" ||
		w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) || w.Header().Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET asset: %d %v", w.Code, w.Header())
	}
	if w := get("HEAD", "/assets/app.css", "localhost"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD asset: %d, %d bytes, %v", w.Code, w.Body.Len(), w.Header())
	}
	if w := get("GET", "/assets/app.css", "localhost", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := get("GET", "/assets/app.css", "localhost", "Range", "bytes=0-9"); w.Code != http.StatusPartialContent || w.Body.Len() != 10 {
		t.Errorf("Range: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := get("GET", "/assets/app.css", "evil.example"); w.Code != http.StatusMisdirectedRequest {
		t.Errorf("rebinding Host on an asset: %d", w.Code)
	}
	if w := get("GET", "/health", "evil.example"); w.Code != http.StatusMisdirectedRequest {
		t.Errorf("rebinding Host on /health: %d", w.Code)
	}
	if w := get("POST", "/health", "localhost"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /health: %d", w.Code)
	}
	if w := get("DELETE", "/assets/app.css", "localhost"); w.Code == 200 {
		t.Errorf("DELETE asset: %d", w.Code)
	}
	for _, p := range []string{"/assets//app.css", "/assets/./app.css", "/assets/x/../app.css"} {
		if w := get("GET", p, "localhost"); w.Code != http.StatusMovedPermanently {
			t.Errorf("GET %s: %d, want the router's redirect to the clean path", p, w.Code)
		}
	}
	if w := get("GET", "/assets/nope.css", "localhost"); w.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", w.Code)
	}
	if w := get("GET", "/api/settings", "localhost"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "sign in") {
		t.Errorf("the router's routes still need a sign-in: %d %s", w.Code, w.Body)
	}
}
