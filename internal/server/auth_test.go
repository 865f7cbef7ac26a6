package server

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/auth"
)

const testPassword = "correct horse"

// testHash is a hash of testPassword in auth's format with few
// iterations: PBKDF2 at full strength is slow on purpose (a second per
// check under -race).
var testHash = sync.OnceValue(func() string { return fastHash(testPassword) })

func fastHash(pw string) string {
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	if err != nil {
		panic(err)
	}
	b64 := base64.RawStdEncoding
	h := "pbkdf2-sha256$1000$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	if !auth.Verify(h, pw) {
		panic("fastHash is not in auth's format")
	}
	return h
}

// client drives a handler like a browser on one IP: it keeps cookies and
// sends the CSRF token on mutating calls.
type client struct {
	t       *testing.T
	h       http.Handler
	d       Deps
	remote  string
	cookies map[string]*http.Cookie
	noCSRF  bool
	tls     bool
}

func newClient(t *testing.T, d Deps) *client {
	t.Helper()
	if d.CSRF == nil {
		d.CSRF = NewCSRF()
	}
	if d.Auth == nil {
		d.Auth = NewAuth(d.Config.PasswordHash)
		d.Auth.hasher = func(pw string) (string, error) { return fastHash(pw), nil }
	}
	if d.Inflight == nil {
		d.Inflight = NewInflight()
	}
	return &client{t: t, h: NewServer(d), d: d, remote: "127.0.0.1:40000", cookies: map[string]*http.Cookie{}}
}

func (c *client) do(method, path string, body any) *httptest.ResponseRecorder {
	c.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Host = "127.0.0.1:8787"
	r.RemoteAddr = c.remote
	if c.tls {
		r = httptest.NewRequest(method, "https://127.0.0.1:8787"+path, rd)
		r.RemoteAddr = c.remote
	}
	if method != http.MethodGet && !c.noCSRF {
		r.Header.Set(CSRFHeader, c.d.CSRF.Token())
	}
	for _, ck := range c.cookies {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return w
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("not JSON (%d): %q", w.Code, w.Body.String())
	}
	return m
}

func TestAuthWithoutPassword(t *testing.T) {
	d := testDeps(t)
	c := newClient(t, d)
	if w := c.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("loopback without password: %d %s", w.Code, w.Body)
	}
	if m := decode(t, c.do("GET", "/api/session", nil)); m["password_set"] != false || m["authenticated"] != true {
		t.Fatalf("session: %v", m)
	}
	if w := c.do("POST", "/api/login", map[string]string{"password": "x"}); w.Code != 200 {
		t.Fatalf("login without password: %d", w.Code)
	}
	// Off this machine, nothing but the public paths (webui refuses such a
	// bind without a password; this is the second line).
	c.remote = "192.168.1.7:5000"
	if w := c.do("GET", "/api/platform", nil); w.Code != 401 || !strings.Contains(w.Body.String(), "no password is set") {
		t.Fatalf("remote without password: %d %s", w.Code, w.Body)
	}
	if w := c.do("GET", "/health", nil); w.Code != 200 {
		t.Fatalf("health: %d", w.Code)
	}
}

func TestAuthSessions(t *testing.T) {
	d := testDeps(t)
	d.Config.PasswordHash = testHash()
	c := newClient(t, d)

	for _, p := range []string{"/health", "/", "/assets/app.js", "/assets/app.css", "/assets/icon.svg", "/manifest.webmanifest", "/api/csrf", "/api/session"} {
		if w := c.do("GET", p, nil); w.Code != 200 {
			t.Errorf("public %s: %d", p, w.Code)
		}
	}
	for _, p := range []string{"/api/platform", "/api/diag", "/api/settings", "/api/logs", "/api/diag/bundle", "/api/nope"} {
		w := c.do("GET", p, nil)
		if m := decode(t, w); w.Code != 401 || m["login"] != true {
			t.Errorf("%s without session: %d %v", p, w.Code, m)
		}
	}
	// Auth comes before CSRF: no session, no token is still 401.
	c.noCSRF = true
	if w := c.do("POST", "/api/restart", nil); w.Code != 401 {
		t.Errorf("restart without session or token: %d", w.Code)
	}
	// Login is a POST under /api/: it needs the token.
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 403 {
		t.Errorf("login without CSRF token: %d", w.Code)
	}
	c.noCSRF = false

	w := c.do("POST", "/api/login", map[string]string{"password": "wrong"})
	if m := decode(t, w); w.Code != 401 || m["error"] != "wrong password" {
		t.Fatalf("wrong password: %d %v", w.Code, m)
	}
	if len(c.cookies) != 0 {
		t.Fatal("a wrong password set a cookie")
	}
	w = c.do("POST", "/api/login", map[string]string{"password": testPassword})
	if w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	ck := c.cookies[SessionCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.MaxAge != 12*3600 || ck.Path != "/" || len(ck.Value) != 64 {
		t.Fatalf("cookie: %+v", ck)
	}
	if w := c.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("with session: %d", w.Code)
	}
	if m := decode(t, c.do("GET", "/api/session", nil)); m["authenticated"] != true {
		t.Fatalf("session: %v", m)
	}

	// Sessions end after SessionLifetime.
	c.d.Auth.now = func() time.Time { return time.Now().Add(SessionLifetime + time.Second) }
	if w := c.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Fatalf("expired session: %d", w.Code)
	}
	c.d.Auth.now = time.Now

	c.do("POST", "/api/login", map[string]string{"password": testPassword})
	old := c.cookies[SessionCookie]
	if w := c.do("POST", "/api/logout", nil); w.Code != 200 {
		t.Fatalf("logout: %d", w.Code)
	}
	if c.cookies[SessionCookie] != nil {
		t.Fatal("logout did not clear the cookie")
	}
	c.cookies[SessionCookie] = old
	if w := c.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Fatalf("session after logout: %d", w.Code)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	d := testDeps(t)
	d.Config.PasswordHash = testHash()
	c := newClient(t, d)
	c.tls = true
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	if ck := c.cookies[SessionCookie]; ck == nil || !ck.Secure {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
}

func TestLoginRateLimit(t *testing.T) {
	d := testDeps(t)
	d.Config.PasswordHash = testHash()
	d.Auth = NewAuth(d.Config.PasswordHash)
	now := time.Now()
	d.Auth.now = func() time.Time { return now }
	c := newClient(t, d)
	for i := 0; i < loginFailures; i++ {
		if w := c.do("POST", "/api/login", map[string]string{"password": "guess"}); w.Code != 401 {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	w := c.do("POST", "/api/login", map[string]string{"password": testPassword})
	if w.Code != 429 || w.Header().Get("Retry-After") != "61" || !strings.Contains(w.Body.String(), "too many wrong passwords") {
		t.Fatalf("6th attempt: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// Another client is not held back.
	other := newClient(t, d)
	other.h, other.d = c.h, c.d
	other.remote = "127.0.0.2:1"
	if w := other.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 200 {
		t.Fatalf("other IP: %d", w.Code)
	}
	// After the window, the first client may try again.
	now = now.Add(30 * time.Second)
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 429 || w.Header().Get("Retry-After") != "31" {
		t.Fatalf("within the window: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	now = now.Add(31 * time.Second)
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 200 {
		t.Fatalf("after the window: %d %s", w.Code, w.Body)
	}
}

func TestHostCheckComesFirst(t *testing.T) {
	d := testDeps(t)
	d.Config.PasswordHash = testHash()
	c := newClient(t, d)
	r := httptest.NewRequest("POST", "/api/login", strings.NewReader(`{"password":"x"}`))
	r.Host = "evil.example"
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	if w.Code != http.StatusMisdirectedRequest {
		t.Fatalf("rebinding host: %d", w.Code)
	}
}

func TestSessionCap(t *testing.T) {
	a := NewAuth("x")
	first := a.NewSession()
	for i := 0; i < maxSessions; i++ {
		a.NewSession()
	}
	if len(a.sessions) > maxSessions {
		t.Fatalf("%d sessions", len(a.sessions))
	}
	if a.Valid(first) {
		t.Fatal("the oldest session survived the cap")
	}
	a.SetHash("y")
	if len(a.sessions) != 0 {
		t.Fatal("a new password kept sessions")
	}
}
