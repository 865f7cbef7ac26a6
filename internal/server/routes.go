package server

import (
	"net/http"

	"github.com/gorilla/mux"
)

// addRoutes is the one place every route is listed.
func addRoutes(r *mux.Router, d Deps, hot *hotRoutes) {
	r.Handle("/health", hot.exact["/health"]).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/csrf", handleCSRF(d.CSRF)).Methods(http.MethodGet)
	r.Handle("/api/diag", handleDiag(d.Diagnose)).Methods(http.MethodGet)
	r.Handle("/api/doctor", handleDoctor(d.Doctor)).Methods(http.MethodGet)
	r.Handle("/api/restart", handleRestart(d)).Methods(http.MethodPost)
	r.Handle("/api/updates/check", handleUpdateCheck(d)).Methods(http.MethodGet)
	r.Handle("/api/updates/apply", handleUpdateApply(d)).Methods(http.MethodPost)
	r.Handle("/api/updates/status", handleUpdateStatus(d)).Methods(http.MethodGet)
	r.Handle("/api/diag/bundle", handleDiagBundle(d)).Methods(http.MethodGet)
	r.Handle("/api/platform", handlePlatform(d)).Methods(http.MethodGet)
	r.Handle("/api/logs", handleLogs(d)).Methods(http.MethodGet)
	r.Handle("/api/settings", handleSettings(d)).Methods(http.MethodGet)
	r.Handle("/api/settings", handleSettingsUpdate(d)).Methods(http.MethodPut, http.MethodPost)
	r.Handle("/api/password", handlePassword(d)).Methods(http.MethodPost)
	r.Handle("/api/session", handleSession(d.Auth)).Methods(http.MethodGet)
	r.Handle("/api/login", handleLogin(d.Auth)).Methods(http.MethodPost)
	r.Handle("/api/logout", handleLogout(d.Auth)).Methods(http.MethodPost)
	r.Handle(LoginPath, handleTokenLink(d.Auth)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/", hot.exact["/"]).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/assets/").Handler(hot.assets).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/manifest.webmanifest", hot.exact["/manifest.webmanifest"]).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/api/").Handler(handleAPINotFound())
	r.NotFoundHandler = handleNotFound()
	r.MethodNotAllowedHandler = handleMethodNotAllowed()
}
