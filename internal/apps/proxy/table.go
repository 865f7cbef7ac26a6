// Package proxy routes URL prefixes to hosted apps: a reverse proxy to a
// supervised process or a local port (TCP or unix socket), or a static
// site. A request to an app that is starting or restarting is held until
// the app is ready instead of failing; only when the hold runs out does the
// client get a page naming the app's state and last verdict.
package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Route is one app's place in the URL space.
type Route struct {
	Name        string
	Prefix      string // "/notes/"; Set adds a missing leading or trailing slash
	StripPrefix bool   // the app sees "/x" for "/notes/x"; the config's default is on
	Public      bool   // auth = off; the caller's auth layer reads it
	Static      *Static
	// Upstream is where a process or proxy app listens:
	// "http://127.0.0.1:PORT" or "unix:/path.sock". It is called per
	// request, as auto ports change across restarts; "" means not known yet.
	Upstream func() string
	// Wait blocks while the app starts or restarts and says whether it is
	// ready, with its state and last verdict for the error page. nil means
	// always ready.
	Wait func(ctx context.Context) (ready bool, state, verdict string)
}

// Static is a static site served from Root.
type Static struct {
	Root    string
	SPA     bool // unknown paths without an extension serve index.html
	Listing bool // directories without index.html list their files
}

// Options configure a Table.
type Options struct {
	// StripCredentials removes webui's own session cookie and its
	// Authorization: Bearer token from every request before it is proxied.
	StripCredentials func(r *http.Request)
	// CookieNames are cookies never forwarded to an app, whatever
	// StripCredentials does, and that an app's Set-Cookie may not set.
	CookieNames []string
	// Scheme says how the client reached webui, for X-Forwarded-Proto and
	// rewritten absolute redirects; nil: https with TLS, else http.
	Scheme func(r *http.Request) string
	// HoldTimeout bounds how long a request waits for an app to become
	// ready; default 30s.
	HoldTimeout time.Duration
	// ResponseHeaderTimeout bounds how long an app may take to start its
	// answer (an SSE stream or a websocket counts once its headers are
	// out); default 2m.
	ResponseHeaderTimeout time.Duration
	ErrorLog              logrus.FieldLogger
}

// Table is the set of routes, swapped whole on reload, and the proxy that
// serves them.
type Table struct {
	o       Options
	routes  atomic.Pointer[[]Route] // longest prefix first
	rp      *httputil.ReverseProxy
	tr      *http.Transport
	dialer  net.Dialer
	socks   sync.Map // fake URL host -> unix socket path
	cookies map[string]bool
}

// New returns an empty Table.
func New(o Options) *Table {
	if o.HoldTimeout <= 0 {
		o.HoldTimeout = 30 * time.Second
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = 2 * time.Minute
	}
	if o.ErrorLog == nil {
		l := logrus.New()
		l.Out = io.Discard
		o.ErrorLog = l
	}
	t := &Table{o: o, dialer: net.Dialer{Timeout: 5 * time.Second}, cookies: map[string]bool{}}
	for _, n := range o.CookieNames {
		t.cookies[n] = true
	}
	t.routes.Store(&[]Route{})
	t.tr = newTransport(t.dial, o.ResponseHeaderTimeout)
	t.rp = t.newReverseProxy()
	return t
}

// Set replaces the routes at once: requests already running finish on the
// route they matched, new ones see the new table.
func (t *Table) Set(routes []Route) {
	rs := make([]Route, len(routes))
	for i, r := range routes {
		r.Prefix = normPrefix(r.Prefix)
		rs[i] = r
	}
	slices.SortStableFunc(rs, func(a, b Route) int { return len(b.Prefix) - len(a.Prefix) })
	t.routes.Store(&rs)
}

// Routes returns the current routes, longest prefix first.
func (t *Table) Routes() []Route { return slices.Clone(*t.routes.Load()) }

func normPrefix(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// Match finds the route with the longest prefix of path. The prefix
// without its slash ("/notes") matches too; ServeHTTP redirects it to
// "/notes/".
func (t *Table) Match(path string) (Route, bool) {
	for _, r := range *t.routes.Load() {
		if strings.HasPrefix(path, r.Prefix) || (len(path) == len(r.Prefix)-1 && strings.HasPrefix(r.Prefix, path)) {
			return r, true
		}
	}
	return Route{}, false
}

// ServeHTTP routes one request to its app.
func (t *Table) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := t.Match(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if len(r.URL.Path) < len(route.Prefix) {
		to := route.Prefix
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusPermanentRedirect)
		return
	}
	if hasDotDot(r.URL.Path) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	if route.Static != nil {
		t.serveStatic(w, r, route)
		return
	}
	t.forward(w, r, route)
}

// hasDotDot reports a ".." segment: browsers never send one, and a path
// that climbs out of its prefix is not worth guessing about.
func hasDotDot(p string) bool {
	if !strings.Contains(p, "..") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

func (t *Table) scheme(r *http.Request) string {
	if t.o.Scheme != nil {
		if s := t.o.Scheme(r); s == "http" || s == "https" {
			return s
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
