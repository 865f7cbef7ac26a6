package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/config"
)

// addRoutes is the one place every route is listed, with what each
// handler takes of the dependencies. The hot routes (/health, the
// console's files) are the same handlers hot answers before the router.
func addRoutes(r *mux.Router, d Deps, s serving, hot *hotRoutes) {
	editor := config.NewEditor(d.Config)
	status := platformStatus(d.Report, d.Restart, d.Watchdog)
	r.Handle("/health", hot.exact["/health"]).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/csrf", handleCSRF(d.CSRF)).Methods(http.MethodGet)
	r.Handle("/api/diag", handleDiag(d.Lifetimes)).Methods(http.MethodGet)
	r.Handle("/api/doctor", handleDoctor(d.Doctor)).Methods(http.MethodGet)
	r.Handle("/api/restart", handleRestart(s.restart, d.Restart)).Methods(http.MethodPost)
	r.Handle("/api/updates/check", handleUpdateCheck(d.Updates)).Methods(http.MethodGet)
	r.Handle("/api/updates/apply", handleUpdateApply(d.Updates, d.Inflight, s.restart)).Methods(http.MethodPost)
	r.Handle("/api/updates/status", handleUpdateStatus(d.Updates, d.Inflight)).Methods(http.MethodGet)
	r.Handle("/api/diag/bundle", handleDiagBundle(d.Config, d.Version, d.PID, status, d.Lifetimes)).Methods(http.MethodGet)
	r.Handle("/api/platform", handlePlatform(status)).Methods(http.MethodGet)
	r.Handle("/api/logs", handleLogs(d.FollowLog, d.Inflight)).Methods(http.MethodGet)
	r.Handle("/api/settings", handleSettings(editor, d.Auth)).Methods(http.MethodGet)
	r.Handle("/api/settings", handleSettingsUpdate(editor, d.Auth, d.Log)).Methods(http.MethodPut, http.MethodPost)
	r.Handle("/api/password", handlePassword(d.Auth, editor, d.Log)).Methods(http.MethodPost)
	r.Handle("/api/session", handleSession(d.Auth)).Methods(http.MethodGet)
	r.Handle("/api/login", handleLogin(d.Auth)).Methods(http.MethodPost)
	r.Handle("/api/logout", handleLogout(d.Auth)).Methods(http.MethodPost)
	r.Handle(LoginPath, handleTokenLink(d.Auth)).Methods(http.MethodGet, http.MethodHead)
	addAppRoutes(r, d.Apps, d.Inflight.Ending)
	r.Handle("/", hot.exact["/"]).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/assets/").Handler(hot.assets).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/manifest.webmanifest", hot.exact["/manifest.webmanifest"]).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/api/").Handler(handleAPINotFound())
	r.NotFoundHandler = handleNotFound()
	r.MethodNotAllowedHandler = handleMethodNotAllowed()
}
