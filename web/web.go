// Package web holds the phone console, embedded in the binary so it works
// offline and needs no files beside the executable: one page (index.html),
// its script and style, the PWA manifest and the icons. The PNG icons are
// assets/icon.svg rendered by headless Chromium at 192 and 512 px (the
// maskable one with the artwork inside the 80% safe zone). The text files
// also have gzip copies in gz/, made at build time by `go generate ./web`
// (`make build` runs it), for browsers that accept them.
package web

//go:generate go run ./internal/gengz

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed index.html manifest.webmanifest assets
var files embed.FS

// gzFiles are the gzip copies, and gz/SUMS the sources they were made from.
//
//go:embed gz
var gzFiles embed.FS

// CSP allows nothing from elsewhere and no inline script or style.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

type file struct {
	data  []byte
	etag  string
	ctype string
	gz    []byte // the gzip copy; nil when there is none or it is stale
	// The response headers of each copy, made once: setting them one by
	// one (canonical keys, a fresh slice each) was a noticeable part of
	// answering a small file.
	hdr, gzHdr []header
	clen       []string // the identity copy's Content-Length
}

// header is one canonical header with its value slice, shared by every
// response (full, so an Add elsewhere copies rather than writes into it).
type header struct {
	key string
	val []string
}

func headers(kv ...string) []header {
	out := make([]header, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, header{http.CanonicalHeaderKey(kv[i]), []string{kv[i+1]}[:1:1]})
	}
	return out
}

// responseHeaders are f's headers for the identity and the gzip copy.
func (f *file) responseHeaders() {
	f.clen = []string{strconv.Itoa(len(f.data))}[:1:1]
	common := []string{"Content-Type", f.ctype, "Cache-Control", "no-cache", "X-Content-Type-Options", "nosniff",
		"Referrer-Policy", "same-origin"}
	if document(f.ctype) {
		common = append(common, "Content-Security-Policy", CSP, "X-Frame-Options", "DENY")
	}
	if f.gz == nil {
		f.hdr = headers(append(common, "ETag", f.etag)...)
		return
	}
	f.hdr = headers(append(common, "ETag", f.etag, "Vary", "Accept-Encoding")...)
	// ServeContent leaves the length out of an encoded response: it is set
	// here, for the only body this copy ever has.
	f.gzHdr = headers(append(common, "ETag", strings.TrimSuffix(f.etag, `"`)+`-gzip"`, "Vary", "Accept-Encoding",
		"Content-Encoding", "gzip", "Content-Length", strconv.Itoa(len(f.gz)))...)
}

// document: a type a browser renders as a page of its own, where the CSP
// and framing rules apply. A browser ignores both on a stylesheet, script
// or image it loads into a page, and leaving them off keeps such an answer
// within net/http's eight-header map (beyond it, the map grows on every
// response).
func document(ctype string) bool {
	return strings.HasPrefix(ctype, "text/html") || strings.HasPrefix(ctype, "image/svg+xml")
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
		tag := hex.EncodeToString(sum[:8])
		var gz []byte
		if gzSums()[p] == tag { // made from these very bytes
			gz, _ = gzFiles.ReadFile("gz/" + p + ".gz")
		}
		f := file{data: data, etag: `"` + tag + `"`, ctype: ct, gz: gz}
		f.responseHeaders()
		m[p] = f
		return nil
	})
	if err != nil {
		panic("web: " + err.Error())
	}
	return m
})

// gzSums reads gz/SUMS: "<source hash> <name>" per line.
func gzSums() map[string]string {
	b, _ := gzFiles.ReadFile("gz/SUMS")
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if sum, name, ok := strings.Cut(l, " "); ok {
			m[name] = sum
		}
	}
	return m
}

// serve answers with one embedded file. The browser revalidates each time
// (no-cache + ETag), so a console updated with the binary is never stale.
func serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := byName()[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	body, hdr, clen := f.data, f.hdr, f.clen
	// A range is of the identity bytes: resuming a download of a
	// compressed copy is not worth the confusion it invites. So are write
	// preconditions, whose 412 must not carry the gzip copy's length.
	// The keys are canonical already, as net/http stores them: Get would
	// canonicalise each again, on every asset answer.
	q := r.Header
	if f.gz != nil && first(q["Range"]) == "" && first(q["If-Match"]) == "" &&
		first(q["If-Unmodified-Since"]) == "" && AcceptsGzip(q["Accept-Encoding"]) {
		body, hdr, clen = f.gz, f.gzHdr, nil // gzHdr has its length
	}
	for _, kv := range hdr {
		if old := h[kv.key]; kv.key == "Vary" && len(old) > 0 {
			h[kv.key] = append(old[:len(old):len(old)], kv.val...) // keep what middleware varies on
			continue
		}
		h[kv.key] = kv.val
	}
	if unconditional(r) {
		// What ServeContent answers to a plain GET, without its checks.
		h["Accept-Ranges"] = acceptRanges
		if clen != nil {
			h["Content-Length"] = clen
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// first is Header.Get's answer from a value list.
func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

var acceptRanges = []string{"bytes"}[:1:1]

// unconditional: no Range or precondition that ServeContent would weigh.
func unconditional(r *http.Request) bool {
	for _, k := range [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
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
