// Package server is webui's HTTP side: the routes, their handlers and the
// middleware every request passes (access log, panic recovery, Host checks
// against DNS rebinding, the owner's token or a session, a read deadline on
// request bodies, CSRF and Origin checks on mutating API calls), in that
// order.
package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/doctor"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/platform"
)

// Deps is what `webui serve` runs with; each handler takes its share.
// Values are read once at startup and passed down; nothing reaches back
// into the command layer. Config and Log are required; a nil callback or
// service turns its endpoint into a 404.
type Deps struct {
	Config  *config.Config
	Log     *logging.Logger
	Version string
	Started time.Time
	// PID is the process /health names; 0 is this one.
	PID int
	// Report is the platform report: its summary is in /health, all of
	// it in GET /api/platform. Nil is empty.
	Report  *platform.Report
	Restart health.RestartInfo
	// Recorder receives the lifecycle events diagnostics keep; nil drops them.
	Recorder Recorder
	// Inflight tracks the requests being served; nil makes a new one.
	Inflight *Inflight
	// CSRF makes and checks the CSRF token; nil makes a new one.
	CSRF *CSRF
	// Auth decides who gets in; nil opens the secrets of Config.StateDir.
	Auth *Auth
	// Intent, when set, says why a SIGTERM came (ctl stop, restart, update)
	// if someone announced it.
	Intent func() string
	// Listener, when set, is an already listening socket (handed over by
	// the previous process image); otherwise Run listens on Config.Addr.
	Listener net.Listener
	// Early, when set, is serving already (ListenEarly), its answers
	// waiting for Run; Listener is then unused.
	Early *Early
	// Signals, when set, is registered already for SIGTERM, SIGINT and
	// SIGUSR2 (diag.CatchAhead); otherwise Run registers its own.
	Signals chan os.Signal
	// Restarter carries out restarts; nil disables them.
	Restarter Restarter
	// Lifetimes feeds GET /api/diag and the evidence bundle.
	Lifetimes Lifetimes
	// Updates is the self-update service (/api/updates/).
	Updates UpdateAPI
	// Extra adds routes (test hooks, later features) to the router.
	Extra func(*mux.Router)
	// LastFreeze is the newest freeze or sleep the server saw (/health?deep=1).
	LastFreeze func() *diag.Freeze
	// Doctor runs `webui doctor`'s checks (GET /api/doctor).
	Doctor func(ctx context.Context, offline bool) doctor.Report
	// Watchdog reads the watchdog's state (ctl) for the status page.
	Watchdog func() ctl.WatchdogStatus
	// FollowLog feeds the log view (GET /api/logs).
	FollowLog FollowLog
	// Ready, when set, runs once the server answers (after its first answer,
	// or announceWait), with the address;
	// work that need not delay the first answer starts from it.
	Ready func(addr string)
	// Apps are the hosted apps: their routes and /api/apps. nil: none.
	Apps Apps
	// Stopped, when set, runs once a shutdown (not a restart) has drained,
	// with the signal and the announced intent (e.g. "ctl stop").
	Stopped func(sig syscall.Signal, intent string)
}

// Lifetimes reads the lifetime records as `webui diagnose` judges them.
type Lifetimes interface {
	// List is every lifetime, newest first.
	List() ([]diag.Lifetime, error)
	// Find is one lifetime by id, pid or a unique prefix of an id.
	Find(id string) (*diag.Lifetime, error)
}

// FollowLog emits the last lines of the JSON log and, with follow, what
// is appended later (across rotation) until ctx ends.
type FollowLog func(ctx context.Context, lines int, follow bool, emit func(line string)) error

// fill gives the optional shared parts their defaults.
func (d *Deps) fill() error {
	if d.Inflight == nil {
		d.Inflight = NewInflight()
	}
	if d.CSRF == nil {
		d.CSRF = NewCSRF()
	}
	if d.PID == 0 {
		d.PID = os.Getpid()
	}
	if d.Auth == nil {
		a, err := OpenAuth(d.Config)
		if err != nil {
			return err
		}
		d.Auth = a
	}
	return nil
}

// serving is what Run adds for one listening socket.
type serving struct {
	ln *Listener // nil in handler tests: the accept check is skipped
	// restart asks the serve loop to restart; false when restarts are
	// unavailable or one is already pending. Nil: unavailable.
	restart func(reason string) bool
}

// NewServer builds the handler with every route and middleware, without
// a listener of its own (tests, benchmarks): no accept check, no restarts.
func NewServer(d Deps) http.Handler {
	if err := d.fill(); err != nil {
		panic("server: " + err.Error())
	}
	return newServer(d, serving{})
}

func newServer(d Deps, s serving) http.Handler {
	front := newFrontDoor(d.Config.PublicURL)
	hot := newHotRoutes(d, s)
	hot.routeLater(func() *mux.Router {
		r := mux.NewRouter()
		addRoutes(r, d, s, hot)
		if d.Extra != nil {
			d.Extra(r)
		}
		return r
	})
	var h http.Handler = hot
	h = checkCSRF(d.CSRF, front, h)
	h = limitBody(d.Config.ReadBodyTimeout, h)
	h = requireAuth(d.Auth, appRoute(d.Apps), h)
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
