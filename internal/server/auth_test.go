package server

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
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
// sends the CSRF token on mutating calls. It starts with the owner's token
// (as a script would); clear bearer to act as a stranger.
type client struct {
	t       *testing.T
	h       http.Handler
	d       Deps
	remote  string
	cookies map[string]*http.Cookie
	noCSRF  bool
	tls     bool
	bearer  string
	header  http.Header
}

func newClient(t *testing.T, d Deps) *client {
	t.Helper()
	if d.CSRF == nil {
		d.CSRF = NewCSRF()
	}
	if d.Auth == nil {
		a, err := OpenAuth(d.Config)
		if err != nil {
			t.Fatal(err)
		}
		a.hasher = func(pw string) (string, error) { return fastHash(pw), nil }
		d.Auth = a
	}
	if d.Inflight == nil {
		d.Inflight = NewInflight()
	}
	return &client{t: t, h: NewServer(d), d: d, remote: "127.0.0.1:40000", cookies: map[string]*http.Cookie{},
		bearer: d.Auth.Store().Token(), header: http.Header{}}
}

// setPassword stores testHash as `webui passwd` would.
func setPassword(t *testing.T, d Deps) {
	t.Helper()
	if err := auth.WritePasswordHash(paths.State(d.Config.StateDir), testHash()); err != nil {
		t.Fatal(err)
	}
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
	if c.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range c.header {
		r.Header[k] = v
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

func TestTokenNeededWithoutPassword(t *testing.T) {
	d := testDeps(t)
	c := newClient(t, d)
	tok := c.bearer
	if !strings.HasPrefix(tok, auth.TokenPrefix) || len(tok) < 4+43 {
		t.Fatalf("token %q", tok)
	}
	if st, err := os.Stat(paths.State(d.Config.StateDir).Token()); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	if w := c.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("with the token: %d %s", w.Code, w.Body)
	}
	// Loopback is no trust: another app on the phone has no token.
	c.bearer = ""
	for _, p := range []string{"/api/platform", "/api/settings", "/api/diag", "/api/diag/bundle"} {
		if w := c.do("GET", p, nil); w.Code != 401 || !strings.Contains(w.Body.String(), "webui url") || w.Header().Get("Connection") != "close" {
			t.Errorf("%s from loopback without token: %d %s", p, w.Code, w.Body)
		}
	}
	for _, p := range []string{"/api/restart", "/api/password", "/api/settings", "/api/logout"} {
		if w := c.do("POST", p, map[string]string{"new": "owned-by-a-game"}); w.Code != 401 {
			t.Errorf("POST %s without token: %d %s", p, w.Code, w.Body)
		}
	}
	if _, err := os.Stat(paths.State(d.Config.StateDir).Password()); err == nil {
		t.Fatal("a stranger set the first password")
	}
	c.bearer = "wut_" + strings.Repeat("A", 43)
	if w := c.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Errorf("wrong token: %d", w.Code)
	}
	c.bearer = ""
	if m := decode(t, c.do("GET", "/api/session", nil)); m["password_set"] != false || m["authenticated"] != false {
		t.Fatalf("session: %v", m)
	}
	if w := c.do("POST", "/api/login", map[string]string{"password": "x"}); w.Code != 409 {
		t.Fatalf("login without password: %d", w.Code)
	}
	// The token link: a cookie, and a redirect to a clean URL.
	w := c.do("GET", LoginPath+"?token=nope", nil)
	if w.Code != 303 || w.Header().Get("Location") != "/#signin-failed" || len(c.cookies) != 0 {
		t.Fatalf("bad link: %d %v", w.Code, w.Header())
	}
	w = c.do("GET", LoginPath+"?token="+tok, nil)
	if w.Code != 303 || w.Header().Get("Location") != "/" || c.cookies[SessionCookie] == nil {
		t.Fatalf("link: %d %v", w.Code, w.Header())
	}
	if w := c.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("with the link's session: %d", w.Code)
	}
	if w := c.do("GET", "/health", nil); w.Code != 200 {
		t.Fatalf("health: %d", w.Code)
	}
}

func TestTicketLinkOnce(t *testing.T) {
	d := testDeps(t)
	c := newClient(t, d)
	c.bearer = ""
	tk, err := c.d.Auth.Store().NewTicket(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := c.do("GET", LoginPath+"?token="+tk, nil); w.Code != 303 || w.Header().Get("Location") != "/" {
		t.Fatalf("ticket: %d %v", w.Code, w.Header())
	}
	c.cookies = map[string]*http.Cookie{}
	if w := c.do("GET", LoginPath+"?token="+tk, nil); w.Header().Get("Location") != "/#signin-failed" || len(c.cookies) != 0 {
		t.Fatalf("ticket twice: %d %v", w.Code, w.Header())
	}
	c.d.Auth.now = func() time.Time { return time.Now().Add(auth.TicketLifetime + time.Second) }
	tk2, _ := c.d.Auth.Store().NewTicket(time.Now())
	if w := c.do("GET", LoginPath+"?token="+tk2, nil); w.Header().Get("Location") != "/#signin-failed" {
		t.Fatalf("expired ticket: %v", w.Header())
	}
}

func TestAuthSessions(t *testing.T) {
	d := testDeps(t)
	setPassword(t, d)
	c := newClient(t, d)
	c.bearer = ""

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
	// Login is a POST under /api/: it needs the CSRF token.
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
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.MaxAge != int(SessionLifetime/time.Second) ||
		ck.Path != "/" || !strings.HasPrefix(ck.Value, auth.SessionPrefix+".") {
		t.Fatalf("cookie: %+v", ck)
	}
	if w := c.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("with session: %d", w.Code)
	}
	if m := decode(t, c.do("GET", "/api/session", nil)); m["authenticated"] != true {
		t.Fatalf("session: %v", m)
	}

	// A restart keeps the session: a new Auth on the same state dir.
	restarted := newClient(t, d)
	restarted.bearer, restarted.cookies = "", c.cookies
	if w := restarted.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("session after a restart: %d", w.Code)
	}

	// Sessions end after SessionLifetime.
	c.d.Auth.now = func() time.Time { return time.Now().Add(SessionLifetime + time.Second) }
	if w := c.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Fatalf("expired session: %d", w.Code)
	}
	c.d.Auth.now = time.Now

	other := &client{t: t, h: c.h, d: c.d, remote: "127.0.0.1:2", cookies: map[string]*http.Cookie{}}
	other.do("POST", "/api/login", map[string]string{"password": testPassword})
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
	// Only that session ended, and the logout outlives a restart.
	if w := other.do("GET", "/api/platform", nil); w.Code != 200 {
		t.Fatalf("the other session after one logout: %d", w.Code)
	}
	restarted = newClient(t, d)
	restarted.bearer, restarted.cookies = "", c.cookies
	if w := restarted.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Fatalf("logged-out session after a restart: %d", w.Code)
	}
	// Rotating the token ends every session.
	if _, err := auth.RotateToken(paths.State(d.Config.StateDir)); err != nil {
		t.Fatal(err)
	}
	if w := other.do("GET", "/api/platform", nil); w.Code != 401 {
		t.Fatalf("session after token rotation: %d", w.Code)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	d := testDeps(t)
	setPassword(t, d)
	c := newClient(t, d)
	c.tls = true
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	if ck := c.cookies[SessionCookie]; ck == nil || !ck.Secure {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
}

func TestPublicURL(t *testing.T) {
	d := testDeps(t)
	d.Config.PublicURL = "https://phone.tailnet.ts.net"
	c := newClient(t, d)
	c.header.Set("Origin", "https://phone.tailnet.ts.net")
	c.header.Set("X-Forwarded-Proto", "https")
	c.bearer = ""
	tok := c.d.Auth.Store().Token()
	if w := c.do("GET", LoginPath+"?token="+tok, nil); w.Code != 303 {
		t.Fatalf("link: %d", w.Code)
	}
	if ck := c.cookies[SessionCookie]; ck == nil || !ck.Secure {
		t.Fatalf("cookie through the https proxy: %+v", ck)
	}
	if w := c.do("POST", "/api/nothing", "{}"); w.Code != 404 {
		t.Fatalf("POST from the public origin: %d %s", w.Code, w.Body)
	}
	// From off the machine, X-Forwarded-Proto is not believed.
	c.remote = "192.168.1.5:1"
	c.header.Set("Origin", "https://127.0.0.1:8787")
	if w := c.do("POST", "/api/nothing", "{}"); w.Code != 403 {
		t.Fatalf("forged proto from the LAN: %d", w.Code)
	}
	// Without public_url, not even from loopback.
	d2 := testDeps(t)
	c2 := newClient(t, d2)
	c2.header.Set("Origin", "https://127.0.0.1:8787")
	c2.header.Set("X-Forwarded-Proto", "https")
	if w := c2.do("POST", "/api/nothing", "{}"); w.Code != 403 {
		t.Fatalf("forged proto without public_url: %d", w.Code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	d := testDeps(t)
	setPassword(t, d)
	c := newClient(t, d)
	now := time.Now()
	c.d.Auth.now = func() time.Time { return now }
	c.bearer = ""
	for i := 0; i < loginFailures; i++ {
		if w := c.do("POST", "/api/login", map[string]string{"password": "guess"}); w.Code != 401 {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	w := c.do("POST", "/api/login", map[string]string{"password": testPassword})
	if w.Code != 429 || w.Header().Get("Retry-After") != "61" || !strings.Contains(w.Body.String(), "too many wrong passwords") {
		t.Fatalf("6th attempt: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// Every loopback address is the same client.
	other := &client{t: t, h: c.h, d: c.d, remote: "127.0.0.2:1", cookies: map[string]*http.Cookie{}}
	if w := other.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 429 {
		t.Fatalf("127.0.0.2: %d", w.Code)
	}
	// Another machine is not held back.
	other.remote = "192.168.1.9:1"
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

func TestLoginLimiterKeys(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "loopback", "127.9.9.9": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"192.168.1.2": "192.168.1.2", "::ffff:192.168.1.2": "192.168.1.2",
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64", "2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%s) = %s, want %s", in, got, want)
		}
	}
	l := newLoginLimiter()
	now := time.Now()
	// The global cap holds against many addresses.
	blocked := 0
	for i := 0; i < 10*maxTrackedIPs; i++ {
		if l.attempt("10.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now) > 0 {
			blocked++
		}
	}
	if blocked != 10*maxTrackedIPs-loginGlobal || len(l.per) > maxTrackedIPs {
		t.Fatalf("blocked %d, tracked %d", blocked, len(l.per))
	}
	// The map stays bounded when the window has passed for nobody.
	l = newLoginLimiter()
	for i := 0; i < 3*maxTrackedIPs; i++ {
		l.global = nil
		l.attempt("k"+strconv.Itoa(i), now)
	}
	if len(l.per) > maxTrackedIPs {
		t.Fatalf("tracked %d", len(l.per))
	}
}

func TestHostCheckComesFirst(t *testing.T) {
	d := testDeps(t)
	setPassword(t, d)
	c := newClient(t, d)
	r := httptest.NewRequest("POST", "/api/login", strings.NewReader(`{"password":"x"}`))
	r.Host = "evil.example"
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	if w.Code != http.StatusMisdirectedRequest {
		t.Fatalf("rebinding host: %d", w.Code)
	}
}

// BenchmarkAuthorized is the cost auth adds to every request: a stat of
// the token or key file and a constant-time compare or an HMAC.
func BenchmarkAuthorized(b *testing.B) {
	a, err := OpenAuth(&config.Config{StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cookie, _ := a.newSession()
	for _, c := range []struct {
		name string
		set  func(r *http.Request)
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+a.Store().Token()) }},
		{"cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie}) }},
	} {
		r := httptest.NewRequest("GET", "/api/platform", nil)
		c.set(r)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !a.authorized(r) {
					b.Fatal("refused")
				}
			}
		})
	}
}
