package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/web"
)

// addRoutes is the one place every route is listed.
func addRoutes(r *mux.Router, d Deps) {
	r.Handle("/health", handleHealth(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/csrf", handleCSRF(d.CSRF)).Methods(http.MethodGet)
	r.Handle("/api/diag", handleDiag(d.Diagnose)).Methods(http.MethodGet)
	r.Handle("/api/restart", handleRestart(d)).Methods(http.MethodPost)
	r.Handle("/", web.Index()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/assets/").Handler(web.Assets()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/api/").Handler(handleAPINotFound())
	r.NotFoundHandler = handleNotFound()
	r.MethodNotAllowedHandler = handleMethodNotAllowed()
}
