package server

import (
	"net/http"
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

func handleDiag(diagnose func(id string) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if diagnose == nil {
			writeError(w, http.StatusNotFound, "diagnostics are not available")
			return
		}
		v, err := diagnose(r.URL.Query().Get("id"))
		if err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// handleRestart accepts a restart and answers 202 before it begins: the
// restart waits for in-flight requests, this one included.
func handleRestart(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.RequestRestart == nil || !d.RequestRestart("POST /api/restart") {
			writeError(w, http.StatusConflict, "a restart is already in progress, or restarts are unavailable")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"restarting": true, "strategy": d.Restart.Strategy, "why": d.Restart.Why})
	})
}
