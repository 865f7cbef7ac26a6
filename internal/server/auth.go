package server

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/auth"
)

// Login sessions. They live in memory only: a restart (and so an update)
// signs everyone out, which is the safe default for a phone server.
const (
	SessionCookie   = "webui_session"
	SessionLifetime = 12 * time.Hour
	maxSessions     = 256

	// Login attempts: at most loginFailures wrong passwords per client IP
	// within loginWindow, then 429 with Retry-After.
	loginFailures = 5
	loginWindow   = time.Minute
	maxTrackedIPs = 4096
)

// Auth holds the login password hash and the sessions of this process.
type Auth struct {
	mu       sync.Mutex
	hash     string
	sessions map[string]time.Time // id -> expiry
	failures map[string][]time.Time
	now      func() time.Time
	hasher   func(password string) (string, error)
}

// NewAuth starts with the configured password hash ("" = no password).
func NewAuth(hash string) *Auth {
	return &Auth{hash: hash, sessions: map[string]time.Time{}, failures: map[string][]time.Time{}, now: time.Now, hasher: auth.Hash}
}

// PasswordSet reports whether a login password is configured.
func (a *Auth) PasswordSet() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hash != ""
}

// Verify checks a password against the current hash.
func (a *Auth) Verify(password string) bool {
	a.mu.Lock()
	h := a.hash
	a.mu.Unlock()
	return h != "" && auth.Verify(h, password)
}

// SetHash replaces the password hash and signs every session out.
func (a *Auth) SetHash(hash string) {
	a.mu.Lock()
	a.hash = hash
	a.sessions = map[string]time.Time{}
	a.mu.Unlock()
}

// NewSession returns a fresh session id, valid for SessionLifetime.
func (a *Auth) NewSession() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	id := hex.EncodeToString(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.sessions) >= maxSessions {
		var oldestID string
		var oldest time.Time
		for k, exp := range a.sessions {
			if !exp.After(now) {
				delete(a.sessions, k)
				continue
			}
			if oldestID == "" || exp.Before(oldest) {
				oldestID, oldest = k, exp
			}
		}
		if len(a.sessions) >= maxSessions {
			delete(a.sessions, oldestID)
		}
	}
	a.sessions[id] = now.Add(SessionLifetime)
	return id
}

// Valid reports whether id names a live session.
func (a *Auth) Valid(id string) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.sessions[id]
	if ok && !exp.After(a.now()) {
		delete(a.sessions, id)
		return false
	}
	return ok
}

// EndSession signs one session out.
func (a *Auth) EndSession(id string) {
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
}

// attempt records a login attempt from ip before the password is checked,
// so parallel guesses count too. It returns how long to wait when ip has
// used up its attempts.
func (a *Auth) attempt(ip string) (wait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	recent := a.failures[ip][:0]
	for _, t := range a.failures[ip] {
		if now.Sub(t) < loginWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= loginFailures {
		a.failures[ip] = recent
		return loginWindow - now.Sub(recent[0])
	}
	if _, known := a.failures[ip]; !known && len(a.failures) >= maxTrackedIPs {
		for k, ts := range a.failures {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= loginWindow {
				delete(a.failures, k)
			}
		}
	}
	a.failures[ip] = append(recent, now)
	return 0
}

// succeeded forgets ip's failures.
func (a *Auth) succeeded(ip string) {
	a.mu.Lock()
	delete(a.failures, ip)
	a.mu.Unlock()
}

// authorized reports whether r may use the protected routes: it carries a
// live session, or no password is set and it comes from this machine.
func (a *Auth) authorized(r *http.Request) bool {
	if !a.PasswordSet() {
		return isLoopbackRemote(r)
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && a.Valid(c.Value)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isLoopbackRemote(r *http.Request) bool {
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}

// public lists what is served without a session: the health probe, the
// console's page and files (the page shows the login form itself), and the
// endpoints that log in.
func public(path string) bool {
	switch path {
	case "/", "/health", "/manifest.webmanifest", "/favicon.ico",
		"/api/csrf", "/api/session", "/api/login", "/api/logout":
		return true
	}
	return strings.HasPrefix(path, "/assets/")
}

// requireAuth refuses everything but the public paths without a session
// once a password is set (and, with none set, to clients off this
// machine): 401 with a JSON error.
func requireAuth(a *Auth, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r.URL.Path) || a.authorized(r) {
			next.ServeHTTP(w, r)
			return
		}
		msg := "login required: POST /api/login with the password"
		if !a.PasswordSet() {
			msg = "no password is set, so only this device may connect: set one with `webui passwd`"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": msg, "login": true})
	})
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// handleSession says whether the console must show the login form.
func handleSession(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{
			"password_set":  a.PasswordSet(),
			"authenticated": a.authorized(r),
		})
	})
}

func handleLogin(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Password string `json:"password"`
		}
		if !decodeJSON(w, r, &in) {
			return
		}
		if !a.PasswordSet() {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": "no password is set: nothing to log in to"})
			return
		}
		ip := clientIP(r)
		if wait := a.attempt(ip); wait > 0 {
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "too many wrong passwords: try again in "+strconv.Itoa(secs)+" s")
			return
		}
		if !a.Verify(in.Password) {
			writeError(w, http.StatusUnauthorized, "wrong password")
			return
		}
		a.succeeded(ip)
		setSessionCookie(w, r, a.NewSession())
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}

func handleLogout(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(SessionCookie); err == nil {
			a.EndSession(c.Value)
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}
