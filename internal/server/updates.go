package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/update"
)

// UpdateAPI is the self-update service behind /api/updates/ (internal/update
// implements it; the server only routes to it).
type UpdateAPI interface {
	// UpdateCheck asks the release feed (or a cached answer, unless
	// force) whether a newer version exists.
	UpdateCheck(ctx context.Context, force bool) update.CheckResult
	// UpdateApply starts an update and returns its status. Errors that
	// carry an HTTPStatus() say which code to answer with.
	UpdateApply(ctx context.Context, req UpdateRequest) (update.Status, error)
	// UpdateStatus is the current status.
	UpdateStatus() update.Status
}

// UpdateRequest is a POST /api/updates/apply.
type UpdateRequest struct {
	// Force applies even while requests are streaming.
	Force bool `json:"force"`
	// AllowDowngrade accepts a release older than the running one.
	AllowDowngrade bool `json:"allow_downgrade"`
	// HealthAddr is where this server answers (the request's local
	// address): the confirmation asks /health there.
	HealthAddr string `json:"-"`
	// Restart asks the serve loop to restart through the restart engine.
	Restart func(reason string) bool `json:"-"`
}

// updateStatusPath is the status stream; it does not count as a stream
// that holds an update back.
const updateStatusPath = "/api/updates/status"

func handleUpdateCheck(updates UpdateAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if updates == nil {
			writeError(w, http.StatusNotFound, "updates are not available in this server")
			return
		}
		force := r.URL.Query().Get("force") == "1"
		writeJSON(w, http.StatusOK, updates.UpdateCheck(r.Context(), force))
	})
}

func handleUpdateApply(updates UpdateAPI, inflight *Inflight, restart func(reason string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if updates == nil {
			writeError(w, http.StatusNotFound, "updates are not available in this server")
			return
		}
		var req UpdateRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, `bad request body: want {"force":bool,"allow_downgrade":bool}`)
			return
		}
		if !req.Force {
			if n := streams(inflight); n > 0 {
				writeError(w, http.StatusConflict, fmt.Sprintf("%d streaming requests are open; an update restarts the server and would cut them. Retry when they end, or send {\"force\":true}", n))
				return
			}
		}
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			req.HealthAddr = a.String()
		}
		req.Restart = restart
		doc, err := updates.UpdateApply(r.Context(), req)
		if err != nil {
			code := http.StatusInternalServerError
			var hs interface{ HTTPStatus() int }
			if errors.As(err, &hs) && hs.HTTPStatus() >= 400 {
				code = hs.HTTPStatus()
			}
			writeError(w, code, err.Error())
			return
		}
		writeJSON(w, http.StatusAccepted, doc)
	})
}

// streams counts the requests in flight that stream, other than update
// status streams.
func streams(f *Inflight) int {
	n := 0
	for _, r := range f.List() {
		if r.Stream && r.Path != updateStatusPath {
			n++
		}
	}
	return n
}

// Status stream limits: a stream ends after streamMaxAge, or when the
// server begins to drain (EventSource reconnects on its own).
const (
	streamPoll   = 250 * time.Millisecond
	streamMaxAge = 60 * time.Second
	streamPing   = 15 * time.Second
)

// handleUpdateStatus answers the update status as JSON, or with ?stream=1
// (or Accept: text/event-stream) as server-sent events: one "status" event
// per change. The tracker marks ?stream=1 requests as streams. The stream
// ends once the state is "restarting", or when the server drains: this
// server is about to go, and the console reconnects to the next one.
func handleUpdateStatus(updates UpdateAPI, inflight *Inflight) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if updates == nil {
			writeError(w, http.StatusNotFound, "updates are not available in this server")
			return
		}
		if r.URL.Query().Get("stream") != "1" && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			writeJSON(w, http.StatusOK, updates.UpdateStatus())
			return
		}
		fl, ok := w.(http.Flusher)
		if !ok {
			writeError(w, http.StatusInternalServerError, "streaming is not supported here")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
			return
		}
		fl.Flush()
		tick := time.NewTicker(streamPoll)
		defer tick.Stop()
		end := time.NewTimer(streamMaxAge)
		defer end.Stop()
		ending := inflight.Ending()
		var last []byte
		lastWrite := time.Now()
		// send writes the status if it changed; false ends the stream.
		send := func() bool {
			doc := updates.UpdateStatus()
			b, err := json.Marshal(doc)
			if err != nil {
				return false
			}
			if string(b) != string(last) {
				if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", b); err != nil {
					return false
				}
				fl.Flush()
				last, lastWrite = b, time.Now()
			} else if time.Since(lastWrite) >= streamPing {
				if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
					return false
				}
				fl.Flush()
				lastWrite = time.Now()
			}
			return doc.State != update.StateRestarting
		}
		for send() {
			select {
			case <-r.Context().Done():
				return
			case <-end.C:
				return
			case <-ending:
				send() // the last word: usually "restarting"
				return
			case <-tick.C:
			}
		}
	})
}
