package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func staticSite(t *testing.T) (string, *httptest.Server) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "site")
	writeFile(t, filepath.Join(root, "index.html"), "<h1>home</h1>")
	writeFile(t, filepath.Join(root, "app.css"), "body{color:red}")
	writeFile(t, filepath.Join(root, "data.bin"), "0123456789")
	writeFile(t, filepath.Join(root, "sub", "page.txt"), "sub page")
	writeFile(t, filepath.Join(root, "sub", ".hidden"), "nope")
	writeFile(t, filepath.Join(root, ".env"), "SECRET=1")
	writeFile(t, filepath.Join(root, ".git", "config"), "[core]")
	writeFile(t, filepath.Join(base, "outside.txt"), "outside secret")
	must(t, os.Symlink(filepath.Join(base, "outside.txt"), filepath.Join(root, "escape.txt")))
	must(t, os.Symlink(base, filepath.Join(root, "up")))
	must(t, os.Symlink("app.css", filepath.Join(root, "inside.css")))
	_, fe := front(t, Options{},
		Route{Name: "site", Prefix: "/site/", StripPrefix: true, Static: &Static{Root: root}},
		Route{Name: "spa", Prefix: "/spa/", StripPrefix: true, Static: &Static{Root: root, SPA: true}},
		Route{Name: "ls", Prefix: "/ls/", StripPrefix: true, Static: &Static{Root: root, Listing: true}})
	return root, fe
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, method, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := mustReq(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestStaticFiles(t *testing.T) {
	_, fe := staticSite(t)
	u := fe.URL

	res, body := do(t, "GET", u+"/site/", nil)
	if res.StatusCode != 200 || body != "<h1>home</h1>" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("index: %d %q %q", res.StatusCode, body, res.Header.Get("Content-Type"))
	}
	res, body = do(t, "GET", u+"/site/app.css", nil)
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || body != "body{color:red}" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		etag == "" || res.Header.Get("Last-Modified") == "" {
		t.Errorf("css: %d %q type %q etag %q", res.StatusCode, body, res.Header.Get("Content-Type"), etag)
	}
	if res, _ := do(t, "GET", u+"/site/app.css", map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}
	res, body = do(t, "GET", u+"/site/data.bin", map[string]string{"Range": "bytes=2-5"})
	if res.StatusCode != http.StatusPartialContent || body != "2345" || res.Header.Get("Content-Range") != "bytes 2-5/10" {
		t.Errorf("Range: %d %q %q", res.StatusCode, body, res.Header.Get("Content-Range"))
	}
	if res, body := do(t, "GET", u+"/site/inside.css", nil); res.StatusCode != 200 || body != "body{color:red}" {
		t.Errorf("a symlink inside the root: %d %q", res.StatusCode, body)
	}
	if res, _ := do(t, "POST", u+"/site/app.css", nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
	// A directory without its slash redirects, so relative links work.
	if res, _ := do(t, "GET", u+"/site/sub", nil); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/site/sub/" {
		t.Errorf("dir without slash: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestStaticRefusals(t *testing.T) {
	_, fe := staticSite(t)
	for _, p := range []string{
		"/site/sub/",        // no listing unless asked
		"/site/.env",        // dotfiles
		"/site/.git/config", // dot directories
		"/site/sub/.hidden",
		"/site/escape.txt",      // a symlink out of the root
		"/site/up/outside.txt",  // a directory symlink out of the root
		"/site/missing",         // no SPA here
		"/spa/missing.js",       // SPA falls back only for paths without an extension
		"/site/%2e%2e/site.txt", // an encoded ".." is refused before any lookup
		"/site/..%2foutside.txt",
	} {
		res, body := do(t, "GET", fe.URL+p, nil)
		if res.StatusCode != 404 && res.StatusCode != 400 {
			t.Errorf("%s: %d %q, want 404 or 400", p, res.StatusCode, body)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "SECRET") {
			t.Errorf("%s leaked %q", p, body)
		}
	}
}

func TestStaticSPAAndListing(t *testing.T) {
	_, fe := staticSite(t)
	if res, body := do(t, "GET", fe.URL+"/spa/deep/route", nil); res.StatusCode != 200 || body != "<h1>home</h1>" {
		t.Errorf("SPA fallback: %d %q", res.StatusCode, body)
	}
	if res, body := do(t, "GET", fe.URL+"/spa/sub/page.txt", nil); res.StatusCode != 200 || body != "sub page" {
		t.Errorf("SPA real file: %d %q", res.StatusCode, body)
	}
	res, body := do(t, "GET", fe.URL+"/ls/sub/", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `href="./page.txt"`) || strings.Contains(body, "hidden") {
		t.Errorf("listing: %d %q", res.StatusCode, body)
	}
}
