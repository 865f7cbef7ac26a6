// Package web holds the phone console, embedded in the binary so it works
// offline and needs no files beside the executable: one page (index.html),
// its script and style, the PWA manifest and the icons. The PNG icons are
// assets/icon.svg rendered by headless Chromium at 192 and 512 px (the
// maskable one with the artwork inside the 80% safe zone).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed index.html manifest.webmanifest assets
var files embed.FS

// CSP allows nothing from elsewhere and no inline script or style.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

type file struct {
	data  []byte
	etag  string
	ctype string
}

// byName indexes the embedded files with their ETags. It runs on the first
// request rather than at init: hashing the icons cost more than a
// millisecond on every start, and startup time is what a restart costs.
var byName = sync.OnceValue(func() map[string]file {
	m := map[string]file{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".webmanifest":
			ct = "application/manifest+json"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".html":
			ct = "text/html; charset=utf-8"
		}
		m[p] = file{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ct}
		return nil
	})
	if err != nil {
		panic("web: " + err.Error())
	}
	return m
})

// serve answers with one embedded file. The browser revalidates each time
// (no-cache + ETag), so a console updated with the binary is never stale.
func serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := byName()[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Frame-Options", "DENY")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

// Index serves the console's page.
func Index() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, "index.html") })
}

// Manifest serves the PWA manifest at /manifest.webmanifest, so its scope
// is the whole site.
func Manifest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, "manifest.webmanifest") })
}

// Assets serves the console's static files under /assets/.
func Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(name, "assets/") || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		serve(w, r, name)
	})
}
