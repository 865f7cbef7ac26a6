package server

import (
	"io"
	"net/http"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
)

func handleCSRF(c *CSRF) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"token": c.Token()})
	})
}

func handleAPINotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
	})
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found: "+r.URL.Path, http.StatusNotFound)
	})
}

func handleMethodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
}

// handleDiag lists the lifetimes, or with ?id= shows one in full.
func handleDiag(lts Lifetimes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lts == nil {
			writeError(w, http.StatusNotFound, "diagnostics are not available")
			return
		}
		var v any
		var err error
		if id := r.URL.Query().Get("id"); id != "" {
			v, err = lts.Find(id)
		} else {
			v, err = listLifetimes(lts)
		}
		if err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeRedactedJSON(w, http.StatusOK, v)
	})
}

// listLifetimes is lts.List with none as [] rather than null.
func listLifetimes(lts Lifetimes) ([]diag.Lifetime, error) {
	list, err := lts.List()
	if list == nil {
		list = []diag.Lifetime{}
	}
	return list, err
}

// handleRestart accepts a restart and answers 202 before it begins: the
// restart waits for in-flight requests, this one included.
func handleRestart(restart func(reason string) bool, info health.RestartInfo) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if restart == nil || !restart("POST /api/restart") {
			writeError(w, http.StatusConflict, "a restart is already in progress, or restarts are unavailable")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"restarting": true, "strategy": info.Strategy, "why": info.Why})
	})
}

// limitBody gives a request body a read deadline (read_body_timeout), so
// a client that sends half a body holds its connection that long at most.
// Requests reach it only once they are signed in, or on the public login
// routes.
func limitBody(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if timeout > 0 {
				_ = rc.SetReadDeadline(time.Now().Add(timeout))
			}
			b := &deadlineBody{ReadCloser: r.Body, rc: rc}
			b.begin, b.end = waitingBody(r)
			r.Body = b
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body is read: net/http
// then reads on in the background to notice a client that goes away, and a
// deadline there would cancel a handler that is still working. While a
// Read waits, the connection counts as waiting on its client.
type deadlineBody struct {
	io.ReadCloser
	rc         *http.ResponseController
	done       bool
	begin, end func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	b.begin()
	n, err := b.ReadCloser.Read(p)
	b.end()
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
