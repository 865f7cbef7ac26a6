package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/web"
)

// addRoutes is the one place every route is listed, with what each
// handler takes of the dependencies.
func addRoutes(r *mux.Router, d Deps, s serving) {
	editor := config.NewEditor(d.Config)
	status := platformStatus(d.Report, d.Restart, d.Watchdog)
	r.Handle("/health", handleHealth(healthDoc(d), d.Started, d.Config, s.ln, d.Inflight, d.LastFreeze)).Methods(http.MethodGet, http.MethodHead)
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
	r.Handle("/", web.Index()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/assets/").Handler(web.Assets()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/manifest.webmanifest", web.Manifest()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/api/").Handler(handleAPINotFound())
	r.NotFoundHandler = handleNotFound()
	r.MethodNotAllowedHandler = handleMethodNotAllowed()
}
