package server

import (
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/web"
)

// hotRoutes are the public GET/HEAD routes that a start and a page load
// wait for: the health probe and the console's files. They are answered
// from a map in front of the router, behind every middleware as any route.
// gorilla/mux tries each route's regexp in turn (a dozen for an asset),
// and compiling them all was most of a start's time before the first
// /health answer, so the router is built on the first request that needs
// it (~0.3 ms, once) and serves everything else.
type hotRoutes struct {
	exact  map[string]http.Handler
	assets http.Handler
	router func() *mux.Router
}

// newHotRoutes holds the handlers addRoutes also registers, so both
// paths serve the same bytes.
func newHotRoutes(d Deps, s serving) *hotRoutes {
	return &hotRoutes{
		exact: map[string]http.Handler{
			"/health":               handleHealth(healthDoc(d), d.Started, d.Config, s.ln, d.Inflight, d.LastFreeze),
			"/":                     web.Index(),
			"/manifest.webmanifest": web.Manifest(),
		},
		assets: web.Assets(),
	}
}

// routeLater builds the router with build on first use: not at start,
// nor beside the first answer, which a start waits for.
func (h *hotRoutes) routeLater(build func() *mux.Router) {
	h.router = sync.OnceValue(build)
}

func (h *hotRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		p := r.URL.Path
		if hh, ok := h.exact[p]; ok {
			hh.ServeHTTP(w, r)
			return
		}
		// A path the router would redirect to its clean form goes there.
		if strings.HasPrefix(p, "/assets/") && p[len(p)-1] != '/' && path.Clean(p) == p {
			h.assets.ServeHTTP(w, r)
			return
		}
	}
	h.router().ServeHTTP(w, r)
}
