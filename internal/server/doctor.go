package server

import (
	"context"
	"net/http"

	"github.com/termux-webui/webui/internal/doctor"
)

// handleDoctor answers GET /api/doctor with `webui doctor --json`'s
// document; ?offline=1 skips the network steps.
func handleDoctor(run func(ctx context.Context, offline bool) doctor.Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if run == nil {
			writeError(w, http.StatusNotFound, "doctor is not available")
			return
		}
		q := r.URL.Query().Get("offline")
		if q != "" && q != "0" && q != "1" {
			writeError(w, http.StatusBadRequest, "offline must be 0 or 1")
			return
		}
		writeJSON(w, http.StatusOK, run(r.Context(), q == "1"))
	})
}
