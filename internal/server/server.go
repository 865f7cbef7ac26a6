// Package server is webui's HTTP side: the routes, their handlers and the
// middleware every request passes (access log, panic recovery, Host checks
// against DNS rebinding, the owner's token or a session, a read deadline on
// request bodies, CSRF and Origin checks on mutating API calls), in that
// order.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/platform"
)

// RestartInfo says which restart strategy applies and why.
type RestartInfo struct {
	Strategy string `json:"strategy"`
	Why      string `json:"why"`
}

// Deps is everything the handlers need. Values are read once at startup and
// passed down; nothing reaches back into the command layer.
type Deps struct {
	Config   *config.Config
	Log      logrus.FieldLogger
	Version  string
	PID      int
	Started  time.Time
	Listener *Listener // nil in handler tests: the accept check is skipped
	Inflight *Inflight
	CSRF     *CSRF
	Platform map[string]any
	Restart  RestartInfo
	// Diagnose lists the lifetimes (id "") or details one (GET /api/diag).
	Diagnose func(id string) (any, error)
	// RequestRestart asks the serve loop to restart; false when restarts
	// are unavailable or one is already pending.
	RequestRestart func(reason string) bool
	// Updates is the self-update service; nil answers 404.
	Updates UpdateAPI
	// Extra adds routes (test hooks, later features) to the router.
	Extra func(r *mux.Router)
	// Report is the full platform report (GET /api/platform); nil is empty.
	Report *platform.Report
	// Watchdog reads the watchdog's state (ctl); nil when unknown.
	Watchdog func() any
	// FollowLog emits the last lines of the JSON log and, with follow,
	// what is appended later (across rotation) until ctx ends.
	FollowLog func(ctx context.Context, lines int, follow bool, emit func(line string)) error
	// Auth decides who gets in; nil opens the secrets of Config.StateDir.
	Auth *Auth
	// LastFreeze is the newest freeze or sleep (nil func or nil: none).
	LastFreeze func() *diag.Freeze
	// Doctor runs `webui doctor`'s checks (GET /api/doctor); nil answers 404.
	Doctor func(ctx context.Context, offline bool) any
}

// NewServer builds the handler with every route and middleware.
func NewServer(d Deps) http.Handler {
	if d.Inflight == nil {
		d.Inflight = NewInflight()
	}
	if d.CSRF == nil {
		d.CSRF = NewCSRF()
	}
	if d.Auth == nil {
		a, err := OpenAuth(d.Config)
		if err != nil {
			panic("server: " + err.Error())
		}
		d.Auth = a
	}
	front := newFrontDoor(d.Config.PublicURL)
	hot := newHotRoutes(d)
	hot.routeLater(func() *mux.Router {
		r := mux.NewRouter()
		addRoutes(r, d, hot)
		if d.Extra != nil {
			d.Extra(r)
		}
		return r
	})
	var h http.Handler = hot
	h = checkCSRF(d.CSRF, front, h)
	h = limitBody(d.Config.ReadBodyTimeout, h)
	h = requireAuth(d.Auth, h)
	h = checkHost(d.Config, front, h)
	h = recoverPanics(h)
	h = track(d.Inflight, h)
	if d.Config.AccessLog {
		h = accessLog(d.Log, h)
	}
	return h
}

// writeJSON encodes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a client that went away is not an error worth more than EPIPE
}

// writeError sends {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
