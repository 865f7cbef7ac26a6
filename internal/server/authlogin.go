package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/termux-webui/webui/internal/auth"
)

// maxTickets bounds the used-ticket list: tickets live two minutes, and
// only the owner's CLI can make them.
const maxTickets = 1024

// LoginPath is the token link `webui url` prints: GET /login?token=T sets
// a session cookie and redirects to the console, so the token leaves the
// address bar and the history at once. The access log records the path
// only, never the query.
const LoginPath = "/login"

func (a *Auth) setSessionCookie(w http.ResponseWriter, r *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.front.secure(r),
	})
}

// signIn gives r's client a new session.
func (a *Auth) signIn(w http.ResponseWriter, r *http.Request) bool {
	v, err := a.newSession()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "session key: "+err.Error())
		return false
	}
	a.setSessionCookie(w, r, v)
	return true
}

// handleTokenLink signs a browser in with the token in the query. A plain
// GET that follows redirects is enough (curl -L). SameSite=Strict cookies
// are not sent on the cross-site navigation that opens the link, so the
// redirect goes through a page of our own (303 to /) and the next request
// carries the cookie.
func handleTokenLink(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if !a.linkValid(r.URL.Query().Get("token")) {
			http.Redirect(w, r, "/#signin-failed", http.StatusSeeOther)
			return
		}
		if !a.signIn(w, r) {
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// linkValid: the link carries the token, or a ticket not used before.
func (a *Auth) linkValid(v string) bool {
	if a.store.CheckToken(v) {
		return true
	}
	key, err := a.store.Key()
	if err != nil {
		return false
	}
	nonce, exp, ok := auth.VerifyTicket(key, v, a.now())
	if !ok {
		return false
	}
	a.ticketsMu.Lock()
	defer a.ticketsMu.Unlock()
	now := a.now()
	for n, e := range a.tickets {
		if !e.After(now) {
			delete(a.tickets, n)
		}
	}
	if _, used := a.tickets[nonce]; used || len(a.tickets) >= maxTickets {
		return false
	}
	a.tickets[nonce] = exp
	return true
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

// tooMany answers 429 when r's client has used up its login attempts.
func (a *Auth) tooMany(w http.ResponseWriter, r *http.Request) bool {
	wait := a.limit.attempt(limitKey(r), a.now())
	if wait <= 0 {
		return false
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	dropBody(w)
	writeError(w, http.StatusTooManyRequests, "too many wrong passwords: try again in "+strconv.Itoa(secs)+" s")
	return true
}

func handleLogin(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.PasswordSet() {
			dropBody(w)
			writeJSON(w, http.StatusConflict, map[string]any{"error": "no password is set: open the link `webui url` prints to sign in"})
			return
		}
		// Counted before the body is read, so neither parallel guesses nor
		// slow bodies get past the limit.
		if a.tooMany(w, r) {
			return
		}
		var in struct {
			Password string `json:"password"`
		}
		if !decodeSmallJSON(w, r, &in, 4<<10) {
			return
		}
		if !a.Verify(in.Password) {
			writeError(w, http.StatusUnauthorized, "wrong password")
			return
		}
		a.limit.succeeded(limitKey(r))
		if a.signIn(w, r) {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		}
	})
}

func handleLogout(a *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, exp, ok := a.session(r); ok {
			if err := a.endSession(id, exp); err != nil {
				writeError(w, http.StatusInternalServerError, "logout: "+err.Error())
				return
			}
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.front.secure(r)})
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}
