// Package web holds the phone console, embedded in the binary so it works
// offline and needs no files beside the executable.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed index.html assets
var files embed.FS

// Index serves the console's page.
func Index() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		http.ServeFileFS(w, r, files, "index.html")
	})
}

// Assets serves the console's static files under /assets/.
func Assets() http.Handler {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix("/assets/", http.FileServerFS(sub))
}
