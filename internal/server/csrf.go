package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/termux-webui/webui/internal/config"
)

// CSRFHeader carries the token on every mutating API request.
const CSRFHeader = "X-CSRF-Token"

// CSRF holds the token of this process. Another origin cannot read it: the
// API sends no CORS headers, so only a same-origin page can fetch /api/csrf.
type CSRF struct{ token func() string }

// NewCSRF makes a fresh random token, on first use: the first randomness
// a process draws is slow, and a start answers /health long before any
// page or API call asks for the token.
func NewCSRF() *CSRF {
	return &CSRF{token: sync.OnceValue(func() string {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			panic("csrf: no randomness: " + err.Error())
		}
		return hex.EncodeToString(b)
	})}
}

// Token is the value clients send back in X-CSRF-Token.
func (c *CSRF) Token() string { return c.token() }

func (c *CSRF) valid(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.token())) == 1
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF guards every non-GET request under /api/: the Origin (when the
// browser sends one) must be this server, the fetch must not be cross-site,
// and the CSRF token must match.
func checkCSRF(c *CSRF, f frontDoor, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safeMethod(r.Method) || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !f.sameOrigin(o, r) {
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

// checkHost refuses requests whose Host header names a host this server does
// not answer to. A DNS-rebinding page reaches 127.0.0.1 under its own name;
// IP literals, localhost and configured names are the only ones accepted.
func checkHost(cfg *config.Config, f frontDoor, next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	if h := f.publicHost(); h != "" {
		allowed[strings.ToLower(h)] = true
	}
	for _, h := range cfg.AllowedHosts {
		allowed[strings.ToLower(h)] = true
	}
	// The last Host that passed: a client sends the same one on every
	// request, and parsing it again (net.ParseIP) was a tenth of a /health
	// answer's own cost. Only an allowed value is ever kept, and the
	// allowed set is fixed, so the shortcut admits nothing the full check
	// would refuse; a hostile client can only push a value out.
	var last atomic.Pointer[string]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := last.Load(); p == nil || *p != r.Host {
			if !hostAllowed(r.Host, allowed) {
				writeError(w, http.StatusMisdirectedRequest, "host "+r.Host+" is not served here; add it to allowed_hosts if it is yours")
				return
			}
			host := r.Host
			last.Store(&host)
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed checks a Host header: an IP literal or an allowed name, and
// a port, when there is one, that is a port number ("127.0.0.1:1.evil.com"
// is not).
func hostAllowed(hostport string, allowed map[string]bool) bool {
	host := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") &&
		(strings.HasPrefix(hostport, "[") || strings.Count(hostport, ":") == 1) {
		if !validPort(hostport[i+1:]) {
			return false
		}
		host = hostport[:i]
	}
	if strings.HasPrefix(host, "[") {
		inner := strings.TrimSuffix(host[1:], "]")
		return len(inner) == len(host)-2 && strings.Contains(inner, ":") && net.ParseIP(inner) != nil
	}
	if strings.Contains(host, ":") {
		return net.ParseIP(host) != nil // a bare IPv6 literal
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return allowed[strings.ToLower(host)]
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}
