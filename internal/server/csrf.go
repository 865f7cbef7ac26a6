package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/termux-webui/webui/internal/config"
)

// CSRFHeader carries the token on every mutating API request.
const CSRFHeader = "X-CSRF-Token"

// CSRF holds the token of this process. Another origin cannot read it: the
// API sends no CORS headers, so only a same-origin page can fetch /api/csrf.
type CSRF struct{ token string }

// NewCSRF makes a fresh random token.
func NewCSRF() *CSRF {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("csrf: no randomness: " + err.Error())
	}
	return &CSRF{token: hex.EncodeToString(b)}
}

// Token is the value clients send back in X-CSRF-Token.
func (c *CSRF) Token() string { return c.token }

func (c *CSRF) valid(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.token)) == 1
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF guards every non-GET request under /api/: the Origin (when the
// browser sends one) must be this server, the fetch must not be cross-site,
// and the CSRF token must match.
func checkCSRF(c *CSRF, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safeMethod(r.Method) || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r) {
			writeError(w, http.StatusForbidden, "cross-origin request refused: Origin "+o+" is not this server")
			return
		}
		if s := r.Header.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
			writeError(w, http.StatusForbidden, "cross-site request refused (Sec-Fetch-Site: "+s+")")
			return
		}
		if !c.valid(r.Header.Get(CSRFHeader)) {
			writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header: GET /api/csrf for the token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

// checkHost refuses requests whose Host header names a host this server does
// not answer to. A DNS-rebinding page reaches 127.0.0.1 under its own name;
// IP literals, localhost and configured names are the only ones accepted.
func checkHost(cfg *config.Config, next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	for _, h := range cfg.AllowedHosts {
		allowed[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, allowed) {
			writeError(w, http.StatusMisdirectedRequest, "host "+r.Host+" is not served here; add it to allowed_hosts if it is yours")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hostAllowed(hostport string, allowed map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return allowed[strings.ToLower(host)]
}
