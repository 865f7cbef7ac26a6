package proxy

import (
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
)

// serveStatic serves a static site with http.ServeContent's semantics
// (Range, If-None-Match, If-Modified-Since, a content type from the
// extension or the first bytes) and an ETag from size and mtime. Files are
// opened through os.Root: no "..", and no symlink that leads out of Root.
// Dotfiles (.git, .env) are never served.
func (t *Table) serveStatic(w http.ResponseWriter, r *http.Request, route Route) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := r.URL.Path
	if route.StripPrefix {
		rel = strings.TrimPrefix(rel, route.Prefix)
	}
	rel = strings.TrimPrefix(rel, "/")
	name := path.Clean("/" + rel)[1:]
	if name == "" {
		name = "."
	}
	if hasDotfile(name) || strings.ContainsRune(name, 0) {
		http.NotFound(w, r)
		return
	}
	st := route.Static
	root, err := os.OpenRoot(st.Root)
	if err != nil {
		t.o.ErrorLog.WithField("app", route.Name).Warnf("static root: %v", err)
		t.failPage(w, r, http.StatusServiceUnavailable, route.Name, "failed", "its root directory cannot be opened")
		return
	}
	defer root.Close()

	fi, err := root.Stat(name)
	switch {
	case err != nil && st.SPA && path.Ext(name) == "" && errors.Is(err, fs.ErrNotExist):
		t.serveFile(w, r, root, "index.html")
	case err != nil:
		http.NotFound(w, r)
	case fi.IsDir():
		if !strings.HasSuffix(r.URL.Path, "/") {
			// relative links in the page need the slash
			to := path.Base(r.URL.Path) + "/"
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		}
		index := path.Join(name, "index.html")
		if ifi, err := root.Stat(index); err == nil && ifi.Mode().IsRegular() {
			t.serveFile(w, r, root, index)
		} else if st.Listing {
			listDir(w, r, root, name)
		} else {
			http.NotFound(w, r)
		}
	case fi.Mode().IsRegular():
		t.serveFile(w, r, root, name)
	default:
		http.NotFound(w, r) // a fifo or device would block or never end
	}
}

func hasDotfile(name string) bool {
	for seg := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(seg, ".") && seg != "." {
			return true
		}
	}
	return false
}

func (t *Table) serveFile(w http.ResponseWriter, r *http.Request, root *os.Root, name string) {
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()))
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// listDir writes a plain list of a directory's entries, dotfiles left out.
func listDir(w http.ResponseWriter, r *http.Request, root *os.Root, name string) {
	d, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>%s</title><pre>\n",
		html.EscapeString(r.URL.Path))
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		fmt.Fprintf(w, "<a href=\"%s\">%s</a>\n", html.EscapeString((&url.URL{Path: "./" + n}).String()), html.EscapeString(n))
	}
	fmt.Fprint(w, "</pre>\n")
}
