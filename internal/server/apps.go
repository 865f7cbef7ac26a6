package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/apps"
)

// Apps is what the server needs of the hosted apps (internal/apps/host):
// their routes, and the calls behind /api/apps.
type Apps interface {
	http.Handler
	Match(path string) (ok, public bool)
	List(ctx context.Context) ([]apps.Status, error)
	Status(ctx context.Context, name string) (apps.Status, error)
	Do(ctx context.Context, name, action string) error
	Logs(ctx context.Context, name string, n int, follow bool, emit func(string)) error
	History(ctx context.Context, name string) ([]apps.Lifetime, error)
	Reload() []*apps.FileError
}

// appsWait bounds how long an API call waits for the supervisor to start
// (it starts right after the server listens).
const appsWait = 10 * time.Second

// addAppRoutes lists the /api/apps routes and the apps' own prefixes.
func addAppRoutes(r *mux.Router, a Apps, ending func() <-chan struct{}) {
	if a == nil {
		return
	}
	r.Handle("/api/apps", handleAppsList(a)).Methods(http.MethodGet)
	r.Handle("/api/apps/reload", handleAppsReload(a)).Methods(http.MethodPost)
	r.Handle("/api/apps/{name}", handleAppStatus(a)).Methods(http.MethodGet)
	r.Handle("/api/apps/{name}/logs", handleAppLogs(a, ending)).Methods(http.MethodGet)
	r.Handle("/api/apps/{name}/{action:start|stop|restart}", handleAppAction(a)).Methods(http.MethodPost)
	// Routes cannot collide with webui's own (the app files refuse /api/,
	// /assets/, /health, /login and /), so the apps go after them.
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		ok, _ := a.Match(req.URL.Path)
		return ok
	}).Handler(a)
}

func appsContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), appsWait)
}

// appError answers an apps call's error: 404 for an unknown app.
func appError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, apps.ErrNoApp):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		writeError(w, http.StatusConflict, err.Error())
	}
}

func handleAppsList(a Apps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := appsContext(r)
		defer cancel()
		l, err := a.List(ctx)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		if l == nil {
			l = []apps.Status{}
		}
		writeJSON(w, http.StatusOK, l)
	})
}

// handleAppStatus answers {"status": ..., "history": [...]}: the app now,
// and how its processes ended, newest first.
func handleAppStatus(a Apps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := appsContext(r)
		defer cancel()
		name := mux.Vars(r)["name"]
		st, err := a.Status(ctx, name)
		if err != nil {
			appError(w, err)
			return
		}
		h, err := a.History(ctx, name)
		if err != nil {
			appError(w, err)
			return
		}
		if h == nil {
			h = []apps.Lifetime{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": st, "history": h})
	})
}

func handleAppAction(a Apps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := appsContext(r)
		defer cancel()
		v := mux.Vars(r)
		if err := a.Do(ctx, v["name"], v["action"]); err != nil {
			appError(w, err)
			return
		}
		st, err := a.Status(ctx, v["name"])
		if err != nil {
			appError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": st})
	})
}

// handleAppsReload re-reads apps.d: {"apps": [...], "errors": ["file:line: ..."]}.
func handleAppsReload(a Apps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs := []string{}
		for _, e := range a.Reload() {
			errs = append(errs, e.Error())
		}
		ctx, cancel := appsContext(r)
		defer cancel()
		l, err := a.List(ctx)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"apps": l, "errors": errs})
	})
}

// handleAppLogs serves an app's log as /api/logs serves webui's:
// {"lines": [...]}, or with stream=1 server-sent events that follow it.
func handleAppLogs(a Apps, ending func() <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := mux.Vars(r)["name"]
		q := r.URL.Query()
		n := defaultLogLines
		if s := q.Get("lines"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 {
				writeError(w, http.StatusBadRequest, "lines must be a whole number")
				return
			}
			n = min(v, maxLogLines)
		}
		ctx, cancel := appsContext(r)
		_, err := a.Status(ctx, name)
		cancel()
		if err != nil {
			appError(w, err)
			return
		}
		follow := func(ctx context.Context, lines int, follow bool, emit func(string)) error {
			return a.Logs(ctx, name, lines, follow, emit)
		}
		if q.Get("stream") != "1" {
			lines := []string{}
			if err := follow(r.Context(), n, false, func(l string) { lines = append(lines, l) }); err != nil {
				writeError(w, http.StatusNotFound, err.Error())
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"lines": lines})
			return
		}
		streamLogs(w, r, follow, ending(), n, func(string) bool { return true })
	})
}

// appRoute reports whether path belongs to an app, and whether that app
// is published without login (`auth = off`).
func appRoute(a Apps) func(path string) (ok, public bool) {
	if a == nil {
		return func(string) (bool, bool) { return false, false }
	}
	return a.Match
}

// StripCredentials removes webui's own credentials from a request before it
// goes to an app: an app never sees the owner's token, a session cookie
// (proxy.Options.CookieNames removes that by name) or the CSRF token. An
// app's own Authorization header (not webui's token) passes through.
func (a *Auth) StripCredentials(r *http.Request) {
	if a.bearer(r) {
		r.Header.Del("Authorization")
	}
	r.Header.Del(CSRFHeader)
}

// Scheme is the scheme the client used: https behind a TLS proxy named by
// public_url (for the apps' X-Forwarded-Proto).
func (a *Auth) Scheme(r *http.Request) string { return a.front.scheme(r) }
