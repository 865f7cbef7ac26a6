package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/restart/schedule"
)

// holdTransport sends a request to the app's current address. When the
// dial is refused (the app died and its supervisor has not noticed yet, or
// it is between restarts) it waits on the route's Wait and tries again,
// until the hold runs out. That is safe for any request whose body nobody
// has read yet, which a refused dial guarantees: no byte left webui. So
// every method and body qualifies; nothing is buffered.
type holdTransport struct {
	t    *Table
	base http.RoundTripper
}

// holdError: the hold ran out, or Wait said the app will not be ready.
type holdError struct {
	state, verdict string
	err            error
}

func (e *holdError) Error() string { return "app not ready (" + e.state + "): " + e.err.Error() }
func (e *holdError) Unwrap() error { return e.err }

func (h *holdTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	info := infoFrom(req.Context())
	if info == nil {
		return h.base.RoundTrip(req)
	}
	var body *guardBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &guardBody{rc: req.Body}
	}
	pause := 20 * time.Millisecond
	state, verdict := "running", ""
	resetOnce := body == nil
	for {
		tg, err := h.t.target(info.route)
		if err == nil {
			// A shallow copy per attempt: the app's address may change
			// between attempts, and the body must outlive a failed one.
			out := *req
			u := *req.URL
			u.Host = tg.host
			out.URL = &u
			if body != nil {
				out.Body = body
			}
			var res *http.Response
			res, err = h.base.RoundTrip(&out)
			// A bodiless request reset before any answer reached an app
			// that was dying: its listener's backlog is reset as it exits,
			// unread. Sent again once, like a refused dial. (An app that
			// read the request and then died closes with EOF instead.)
			if err != nil && resetOnce && errors.Is(err, syscall.ECONNRESET) {
				resetOnce = false
			} else if err == nil || !isRefused(err) {
				return res, err
			}
		} else if !isRefused(err) {
			return nil, err
		}
		if info.route.Wait == nil || (body != nil && body.wasRead()) {
			return nil, err
		}
		// Wait answers at once while the supervisor still thinks the app
		// runs; the pause keeps that from turning into a busy loop.
		left := time.Until(info.holdUntil)
		if left <= 0 {
			return nil, &holdError{state, verdict, err}
		}
		if schedule.Sleep(req.Context(), min(pause, left)) != nil {
			return nil, req.Context().Err()
		}
		pause = min(2*pause, 500*time.Millisecond)
		ctx, cancel := context.WithDeadline(req.Context(), info.holdUntil)
		ready, st, v := info.route.Wait(ctx)
		cancel()
		state, verdict = st, v
		if !ready {
			return nil, &holdError{state, verdict, err}
		}
	}
}

// guardBody lets a request body be sent again after a refused dial: the
// transport closes the body it was given when the dial fails, so Close is
// a no-op until the first Read (ReverseProxy closes its own wrapper when
// the handler returns).
type guardBody struct {
	rc   io.ReadCloser
	read atomic.Bool
}

func (g *guardBody) Read(p []byte) (int, error) {
	g.read.Store(true)
	return g.rc.Read(p)
}

func (g *guardBody) Close() error {
	if g.read.Load() {
		return g.rc.Close()
	}
	return nil
}

func (g *guardBody) wasRead() bool { return g.read.Load() }

// logWriter carries httputil's own log lines to the error log.
type logWriter struct{ l logrus.FieldLogger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
