package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
)

// get sends a real request to h; the client leaves Accept-Encoding alone
// (Go's transport would otherwise ask for gzip and undo it silently).
func get(t *testing.T, h http.Handler, p string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+p, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGzipServedToBrowsersThatAcceptIt(t *testing.T) {
	css, _ := files.ReadFile("assets/app.css")
	resp, body := get(t, Assets(), "/assets/app.css", "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if !bytes.Equal(gunzip(t, body), css) {
		t.Fatal("the gzip body is not app.css")
	}
	if len(body) >= len(css) || resp.ContentLength != int64(len(body)) {
		t.Fatalf("%d compressed bytes of %d, Content-Length %d", len(body), len(css), resp.ContentLength)
	}
	gzTag := resp.Header.Get("ETag")

	// Without gzip in Accept-Encoding: the same file, plain, another ETag.
	for _, ae := range []string{"", "identity", "gzip;q=0", "br, gzip;q=0, *;q=1", "deflate"} {
		resp, body := get(t, Assets(), "/assets/app.css", "Accept-Encoding", ae)
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, css) || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: encoding %q, %d bytes, Vary %q", ae, resp.Header.Get("Content-Encoding"), len(body), resp.Header.Get("Vary"))
		}
		if tag := resp.Header.Get("ETag"); tag == gzTag || tag == "" {
			t.Fatalf("identity ETag %q, gzip ETag %q: a cache would mix them up", tag, gzTag)
		}
	}

	// Revalidation: each representation by its own ETag.
	if resp, _ := get(t, Assets(), "/assets/app.css", "Accept-Encoding", "gzip", "If-None-Match", gzTag); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match gzip ETag: %d", resp.StatusCode)
	}
	if resp, _ := get(t, Assets(), "/assets/app.css", "If-None-Match", gzTag); resp.StatusCode != 200 {
		t.Fatalf("gzip ETag for the identity copy: %d, want 200", resp.StatusCode)
	}

	// A range is of the identity bytes, even when gzip is accepted.
	resp, body = get(t, Assets(), "/assets/app.css", "Accept-Encoding", "gzip", "Range", "bytes=10-19")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, css[10:20]) {
		t.Fatalf("range: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
	}
}

// Every text file the console has is served compressed: the copies in gz/
// are made from the current sources.
func TestGzipCopiesAreFresh(t *testing.T) {
	n := 0
	for name, f := range byName() {
		switch path.Ext(name) {
		case ".png":
			if f.gz != nil {
				t.Errorf("%s has a gzip copy", name)
			}
			continue
		}
		if f.gz == nil {
			t.Errorf("%s: no gzip copy made from it: run `go generate ./web` (make build does)", name)
			continue
		}
		if !bytes.Equal(gunzip(t, f.gz), f.data) {
			t.Errorf("%s: the gzip copy differs", name)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("only %d gzip copies", n)
	}
	for _, p := range []string{"/", "/manifest.webmanifest"} {
		h := Index()
		if p != "/" {
			h = Manifest()
		}
		if resp, _ := get(t, h, p, "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s not compressed", p)
		}
	}
	// Images that are compressed already keep one representation.
	if resp, _ := get(t, Assets(), "/assets/icon-192.png", "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "" {
		t.Fatalf("png: %v", resp.Header)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"gzip", true}, {"GZip", true}, {"deflate, gzip;q=0.5", true}, {"*", true}, {"x-gzip", true},
		{"", false}, {"identity", false}, {"gzip;q=0", false}, {"gzip;q=0.000", false}, {"*;q=0", false},
		{"gzip;q=0, *", false}, {"gzip;q=nan", false}, {"gzip;q=2", false}, {"gzip;q=", false}, {"gzipx", false},
		{"br;q=1, gzip ; q=0.1", true},
	} {
		if got := AcceptsGzip([]string{c.in}); got != c.want {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
		}
	}
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0.5, *;q=0", "br", ";;,,=q", "*;Q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := strings.ToLower(s)
		if AcceptsGzip([]string{s}) && !strings.Contains(l, "gzip") && !strings.Contains(l, "*") {
			t.Fatalf("%q accepted", s)
		}
	})
}

// HEAD and a failed precondition answer with headers that match the body.
func TestGzipHeadAndPreconditions(t *testing.T) {
	srv := httptest.NewServer(Assets())
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	req, _ := http.NewRequest("HEAD", srv.URL+"/assets/app.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != int64(len(byName()["assets/app.js"].gz)) {
		t.Fatalf("HEAD: %v", resp.Header)
	}
	resp, body := get(t, Assets(), "/assets/app.js", "Accept-Encoding", "gzip", "If-Match", `"nope"`)
	if resp.StatusCode != 412 || len(body) != 0 {
		t.Fatalf("If-Match: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// A Vary set before the handler (by middleware) is kept, not replaced.
func TestVaryKept(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		Assets().ServeHTTP(w, r)
	})
	resp, _ := get(t, h, "/assets/app.css", "Accept-Encoding", "gzip")
	if got := resp.Header.Values("Vary"); len(got) != 2 || got[0] != "Cookie" || got[1] != "Accept-Encoding" {
		t.Fatalf("Vary %q", got)
	}
	// The shared header values are not written into.
	resp, _ = get(t, Assets(), "/assets/app.css", "Accept-Encoding", "gzip")
	if got := resp.Header.Values("Vary"); len(got) != 1 {
		t.Fatalf("Vary %q after a request that added to it", got)
	}
}

// TestPageHeaders: a page the browser renders on its own (the console, an
// SVG opened directly) carries the CSP and framing rules; every file
// carries nosniff, so a script or stylesheet is never read as another type.
// A stylesheet's answer fits net/http's eight-entry header map.
func TestPageHeaders(t *testing.T) {
	h := Assets()
	for _, tc := range []struct {
		path string
		page bool
	}{{"/assets/icon.svg", true}, {"/assets/app.css", false}, {"/assets/app.js", false}, {"/assets/icon-192.png", false}} {
		resp, _ := get(t, h, tc.path)
		if resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", tc.path, resp.StatusCode, resp.Header)
		}
		csp, xfo := resp.Header.Get("Content-Security-Policy") != "", resp.Header.Get("X-Frame-Options") == "DENY"
		if csp != tc.page || xfo != tc.page {
			t.Errorf("%s: CSP %v, X-Frame-Options %v; want both %v", tc.path, csp, xfo, tc.page)
		}
	}
	resp, _ := get(t, Index(), "/")
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("index: %v", resp.Header)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/assets/app.css", nil))
	if n := len(w.Header()); n > 8 {
		t.Errorf("app.css sets %d headers: %v", n, w.Header())
	}
}
