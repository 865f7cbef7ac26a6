package server

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
)

// Who gets in: a request carries the owner's access token (Authorization:
// Bearer) or a session cookie. Loopback is no trust: any app on an Android
// phone can connect to 127.0.0.1. Sessions are signed cookies (see
// auth.SignSession) that outlive restarts; a logout puts the session's id on
// a revocation list in the state dir, and a password change or token
// rotation replaces the signing key, which ends every session.
const (
	SessionCookie   = "webui_session"
	SessionLifetime = 30 * 24 * time.Hour
)

// Auth decides who gets in. Its secrets live in the state dir (auth.Store).
type Auth struct {
	store   *auth.Store
	revoked *auth.Revoked
	limit   *loginLimiter
	now     func() time.Time
	hasher  func(password string) (string, error)
	front   frontDoor

	ticketsMu sync.Mutex
	tickets   map[string]time.Time // used ticket nonces -> expiry
}

// NewAuth uses the secrets in store.
func NewAuth(store *auth.Store) *Auth {
	return &Auth{
		store:   store,
		revoked: auth.LoadRevoked(store.Dir().Revoked()),
		limit:   newLoginLimiter(),
		now:     time.Now,
		hasher:  auth.Hash,
		tickets: map[string]time.Time{},
	}
}

// OpenAuth opens the secrets of cfg's state dir, creating the token and
// the session key on first start.
func OpenAuth(cfg *config.Config) (*Auth, error) {
	env, file := "", ""
	if cfg.Source["password_hash"] == "env" {
		env = cfg.PasswordHash
	} else if strings.HasPrefix(cfg.Source["password_hash"], "file:") {
		file = cfg.PasswordHash
	}
	st, err := auth.OpenStore(paths.State(cfg.StateDir), env, file)
	if err != nil {
		return nil, err
	}
	a := NewAuth(st)
	a.front = newFrontDoor(cfg.PublicURL)
	return a, nil
}

// Store is where the secrets live.
func (a *Auth) Store() *auth.Store { return a.store }

// PasswordSet reports whether a login password is configured.
func (a *Auth) PasswordSet() bool { return a.store.PasswordHash() != "" }

// Verify checks a password against the current hash.
func (a *Auth) Verify(password string) bool {
	h := a.store.PasswordHash()
	return h != "" && auth.Verify(h, password)
}

// SetPassword stores a new password hash and signs every session out.
func (a *Auth) SetPassword(hash string) error {
	if err := a.store.SetPassword(hash); err != nil {
		return err
	}
	return a.revoked.Clear()
}

// newSession returns a signed cookie value for a fresh session.
func (a *Auth) newSession() (string, error) {
	key, err := a.store.Key()
	if err != nil {
		return "", err
	}
	return auth.SignSession(key, auth.NewSessionID(), a.now().Add(SessionLifetime)), nil
}

// session returns the id and expiry of r's live session.
func (a *Auth) session(r *http.Request) (id string, exp time.Time, ok bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", time.Time{}, false
	}
	key, err := a.store.Key()
	if err != nil {
		return "", time.Time{}, false
	}
	id, exp, ok = auth.VerifySession(key, c.Value, a.now())
	if !ok || a.revoked.Has(id) {
		return "", time.Time{}, false
	}
	return id, exp, true
}

// endSession logs one session out.
func (a *Auth) endSession(id string, exp time.Time) error {
	err := a.revoked.Add(id, exp, a.now())
	if err == auth.ErrRevokedFull {
		if err = a.store.RotateKey(); err == nil {
			err = a.revoked.Clear()
		}
	}
	return err
}

// bearer reports whether r carries the access token.
func (a *Auth) bearer(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	return len(h) > len(p) && strings.EqualFold(h[:len(p)], p) && a.store.CheckToken(strings.TrimSpace(h[len(p):]))
}

// authorized reports whether r may use the protected routes.
func (a *Auth) authorized(r *http.Request) bool {
	if a.bearer(r) {
		return true
	}
	_, _, ok := a.session(r)
	return ok
}

// public lists what is served without a session or the token: the health
// probe, the console's page and files (the page shows the login form
// itself), the token link, and the endpoints the login form uses.
func public(r *http.Request) bool {
	p := r.URL.Path
	switch p {
	case "/", "/health", "/manifest.webmanifest", "/favicon.ico", "/api/session", LoginPath:
		return true
	case "/api/csrf":
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	case "/api/login":
		return r.Method == http.MethodPost
	}
	return strings.HasPrefix(p, "/assets/")
}

// requireAuth refuses everything but the public paths without a session
// or the token: 401 with a JSON error. A browser opening a protected app
// is sent to the console's sign-in page instead. The body of a refused
// request is never read, and its connection is closed, so a slow sender
// holds nothing.
func requireAuth(a *Auth, appRoute func(path string) (ok, public bool), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) { // webui's own public paths (/health, the console's files): no app lookup
			next.ServeHTTP(w, r)
			return
		}
		isApp, publicApp := appRoute(r.URL.Path)
		if publicApp || a.authorized(r) {
			next.ServeHTTP(w, r)
			return
		}
		dropBody(w)
		if isApp && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		msg := "sign in first: open the link `webui url` prints, or send Authorization: Bearer <token>"
		if a.PasswordSet() {
			msg += ", or log in with the password (POST /api/login)"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": msg, "login": true})
	})
}

// dropBody makes sure the request body is never waited for: net/http
// would otherwise read up to 256 KiB of it after the handler, from a
// client that may send it a byte at a time. The connection closes after
// the response.
func dropBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}
