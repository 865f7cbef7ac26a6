// Package host joins the hosted apps' two halves for the server: the
// supervisor (internal/apps) that keeps their processes alive and the route
// table (internal/apps/proxy) that sends their prefixes to them. The server
// sees one Host: a handler, a public-path test for `auth = off`, and the
// calls behind `webui app` and /api/apps.
package host

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/apps/proxy"
)

// Options says where the app files are and how to supervise and proxy.
type Options struct {
	Dir   string // apps.d
	Sup   apps.Config
	Proxy proxy.Options
}

// Host holds the apps of one webui process.
type Host struct {
	dir   string
	cfg   apps.Config
	table *proxy.Table

	ready   chan struct{} // closed once the supervisor runs
	mu      sync.Mutex    // serializes Start, Reload and Close
	sup     *apps.Supervisor
	specs   []apps.Spec
	errs    []*apps.FileError
	started bool
}

// New reads the app files and sets up their routes. It starts nothing:
// Start does, once the server listens, so app supervision costs the first
// request nothing. Until then a request to an app waits for it.
func New(o Options) *Host {
	h := &Host{dir: o.Dir, cfg: o.Sup, table: proxy.New(o.Proxy), ready: make(chan struct{})}
	h.specs, h.errs = apps.LoadDir(o.Dir)
	h.table.Set(h.routes(h.specs))
	return h
}

// Start adopts the apps still running from an earlier webui and starts the
// others.
func (h *Host) Start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	h.sup = apps.New(h.cfg, h.specs, h.errs)
	close(h.ready)
}

// Reload re-reads the app files: new apps start, removed ones stop, changed
// ones restart, and the routes follow. It returns the broken files.
func (h *Host) Reload() []*apps.FileError {
	specs, errs := apps.LoadDir(h.dir)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.specs, h.errs = specs, errs
	if h.sup != nil {
		h.sup.Reload(specs, errs)
		specs = h.sup.Specs() // a broken file's app keeps its old spec while it runs
	}
	h.table.Set(h.routes(specs))
	return errs
}

// Close leaves the apps running for the next webui to adopt (a restart or
// an update); StopAll stops them (webui stopping for good).
func (h *Host) Close() {
	if s := h.supervisor(); s != nil {
		s.Close()
	}
}

// StopAll stops every app's process.
func (h *Host) StopAll(ctx context.Context) error {
	if s := h.supervisor(); s != nil {
		return s.StopAll(ctx)
	}
	return nil
}

// ServeHTTP serves an app's route.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.table.ServeHTTP(w, r) }

// Match reports whether path belongs to an app, and whether that app is
// published without login (`auth = off`).
func (h *Host) Match(path string) (ok, public bool) {
	rt, ok := h.table.Match(path)
	return ok, ok && rt.Public
}

func (h *Host) supervisor() *apps.Supervisor {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sup
}

// routes maps specs to the proxy's routes.
func (h *Host) routes(specs []apps.Spec) []proxy.Route {
	rs := make([]proxy.Route, 0, len(specs))
	for _, s := range specs {
		name := s.Name
		rt := proxy.Route{Name: name, Prefix: s.Route, StripPrefix: s.StripPrefix, Public: !s.Auth}
		switch s.Kind {
		case apps.Static:
			rt.Static = &proxy.Static{Root: apps.ExpandHome(h.cfg.Home, s.Root), SPA: s.SPA, Listing: s.Listing}
		case apps.Process, apps.Proxy:
			rt.Upstream = func() string { return h.upstream(name) }
			rt.Wait = func(ctx context.Context) (bool, string, string) { return h.wait(ctx, name) }
		default:
			continue
		}
		rs = append(rs, rt)
	}
	return rs
}

func (h *Host) upstream(name string) string {
	s := h.supervisor()
	if s == nil {
		return ""
	}
	a := s.Addr(name)
	switch {
	case a == "", strings.HasPrefix(a, "unix:"):
		return a
	}
	return "http://" + a
}

// wait holds a request until the app runs. A running app answers at once:
// the proxy calls again after a refused dial, and by then the supervisor
// has usually seen the death (its flock wakes it within milliseconds).
func (h *Host) wait(ctx context.Context, name string) (bool, string, string) {
	select {
	case <-h.ready:
	case <-ctx.Done():
		return false, apps.StateStarting, ""
	}
	s := h.supervisor()
	if st, ok := s.Status(name); ok && st.State == apps.StateRunning {
		return true, st.State, st.LastVerdict
	}
	st, err := s.Wait(ctx, name)
	return err == nil && st.State == apps.StateRunning, st.State, st.LastVerdict
}
