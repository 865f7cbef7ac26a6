package server

import (
	"log"
	"net"
	"net/http"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/logging"
)

// Early is a listener that accepts and reads requests before Run has
// built the handler: their answers wait for Run. A start's last steps
// (the record, the secrets, the restart engine, updates, apps.d, the
// routes) then overlap the first client's accept and read, which on two
// cores took as long. It is what socket activation does, one step later:
// the pid file is already locked, so a second instance never gets this
// far.
type Early struct {
	ss    *session
	gate  *gate
	first *firstAnswer
}

// ListenEarly starts serving on raw (a handed-over socket), or on a new
// listener on cfg.Addr when raw is nil.
func ListenEarly(cfg *config.Config, raw net.Listener, lg *logging.Logger) (*Early, error) {
	if raw == nil {
		var err error
		if raw, err = Listen(cfg.Addr); err != nil {
			return nil, err
		}
	}
	e := &Early{gate: &gate{ready: make(chan struct{})}, first: newFirstAnswer()}
	// No yield to the accept loop here: the caller's next steps are what
	// the first answer waits for, and a yield queued them behind every
	// goroutine the start had begun (the record's, the signals'). Another
	// thread takes the accept loop; the announcement waits for the first
	// answer (firstAnswer) either way.
	e.ss = newSession(cfg, NewListener(raw, cfg.MaxConns), e.first.wrap(e.gate), lg)
	return e, nil
}

// Close stops an Early that Run will not take over.
func (e *Early) Close() { _ = e.ss.srv.Close() }

// gate holds every request until open gives it the handler.
type gate struct {
	ready chan struct{}
	h     http.Handler
}

func (g *gate) open(h http.Handler) { g.h = h; close(g.ready) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	<-g.ready
	g.h.ServeHTTP(w, r)
}

// newSession serves h on ln.
func newSession(cfg *config.Config, ln *Listener, h http.Handler, lg *logging.Logger) *session {
	ss := &session{ln: ln, done: make(chan error, 1), srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTime,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnState:         ln.ConnState,
		ConnContext:       ConnContext,
		ErrorLog:          log.New(lg.ErrorLogWriter("http"), "", 0),
	}}
	diag.Go("http serve", func() { ss.done <- ss.srv.Serve(ln) })
	return ss
}
