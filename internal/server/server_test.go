package server

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/platform"
)

func testDeps(t *testing.T) Deps {
	l, err := logging.New(logging.Options{Level: "info"})
	if err != nil {
		t.Fatal(err)
	}
	return Deps{
		Config:  &config.Config{StateDir: t.TempDir(), AccessLog: true, StallAfter: time.Second, AllowedHosts: []string{"phone.lan"}},
		Log:     l,
		Version: "1.0.0",
		PID:     42,
		Started: time.Now(),
	}
}

func TestHostAllowed(t *testing.T) {
	allowed := map[string]bool{"localhost": true, "phone.lan": true}
	for host, want := range map[string]bool{
		"127.0.0.1:8787": true, "[::1]:8787": true, "localhost": true, "LOCALHOST:1": true, "phone.lan:8787": true,
		"192.168.1.20:8787": true, "evil.example": false, "evil.example:8787": false, "": false, "127.0.0.1.nip.io": false,
		"127.0.0.1:1.evil.com": false, "127.0.0.1:": false, "127.0.0.1:99999": false, "127.0.0.1:80x": false, "[::1]": true,
		"::1": true, "[::1]:x": false, "[127.0.0.1]:80": false, "localhost:8787:1": false, "phone.lan:+80": false,
	} {
		if got := hostAllowed(host, allowed); got != want {
			t.Errorf("hostAllowed(%q) = %v", host, got)
		}
	}
}

// The Host check remembers the last Host it let in. Interleaved with
// allowed ones, from several clients at once, every hostile Host is still
// refused, including near copies of the one remembered.
func TestHostCheckShortcutAdmitsNothingMore(t *testing.T) {
	h := NewServer(testDeps(t))
	hosts := map[string]int{
		"127.0.0.1:8787": 200, "phone.lan:8787": 200, "localhost": 200,
		"evil.example": 421, "127.0.0.1:8787x": 421, "127.0.0.1:87870": 421, "127.0.0.1:8787.evil.com": 421,
		"phone.lan.evil:8787": 421, "": 421,
	}
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		diag.Go("test client", func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for host, want := range hosts {
					for _, first := range []string{"127.0.0.1:8787", host} { // remembered, then asked
						r := httptest.NewRequest("GET", "/health", nil)
						r.Host = first
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						if first == host && w.Code != want {
							t.Errorf("Host %q: %d, want %d", host, w.Code, want)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestCSRFMiddleware(t *testing.T) {
	d := testDeps(t)
	d.CSRF = NewCSRF()
	a, err := OpenAuth(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	d.Auth = a
	h := NewServer(d)
	do := func(method, path string, hdr map[string]string) int {
		r := httptest.NewRequest(method, path, nil)
		r.Host = "127.0.0.1:8787"
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("Authorization", "Bearer "+a.Store().Token())
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	tok := d.CSRF.Token()
	if c := do("POST", "/api/x", nil); c != 403 {
		t.Errorf("no token: %d", c)
	}
	if c := do("POST", "/api/x", map[string]string{CSRFHeader: tok}); c != 404 {
		t.Errorf("token: %d", c)
	}
	if c := do("POST", "/api/x", map[string]string{CSRFHeader: tok, "Origin": "http://127.0.0.1:8787"}); c != 404 {
		t.Errorf("same origin: %d", c)
	}
	if c := do("POST", "/api/x", map[string]string{CSRFHeader: tok, "Origin": "https://127.0.0.1:8787"}); c != 403 {
		t.Errorf("scheme mismatch: %d", c)
	}
	if c := do("POST", "/api/x", map[string]string{CSRFHeader: tok, "Origin": "null"}); c != 403 {
		t.Errorf("null origin: %d", c)
	}
	if c := do("GET", "/api/csrf", nil); c != 200 {
		t.Errorf("csrf GET: %d", c)
	}
	if c := do("POST", "/health", nil); c != 405 {
		t.Errorf("POST /health: %d", c)
	}
}

// capped is a Listener of n slots on a free port whose accepted
// connections arrive on accepted; active marks each as being served.
func capped(t *testing.T, n int, active bool) (l *Listener, addr string, accepted chan net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = NewListener(raw, n)
	t.Cleanup(func() { l.Close() })
	accepted = make(chan net.Conn, n+1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if active {
				l.ConnState(c, http.StateActive) // being served: not to be evicted
			}
			accepted <- c
		}
	}()
	return l, raw.Addr().String(), accepted
}

func TestListenerCapAndStatus(t *testing.T) {
	l, addr, accepted := capped(t, 2, true)
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	a := <-accepted
	<-accepted
	time.Sleep(100 * time.Millisecond)
	st := l.Status(50 * time.Millisecond)
	if st.State != WaitingSlot || !st.Stalled || st.Open != 2 {
		t.Fatalf("at cap: %+v", st)
	}
	select {
	case <-accepted:
		t.Fatal("third connection accepted over the cap")
	default:
	}
	a.Close()
	a.Close() // a second close must not free a second slot
	<-accepted
	if st := l.Status(time.Hour); st.Stalled || st.Open != 2 {
		t.Fatalf("after release: %+v", st)
	}
}

// At the cap, a new client closes the connection that has waited longest
// on its client (idle keep-alive, slow headers), not one being served.
func TestListenerEvictsLongestWaiting(t *testing.T) {
	l, addr, accepted := capped(t, 3, false)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	busy := <-accepted
	l.ConnState(busy, http.StateActive)
	dial()
	idleOld := <-accepted
	l.ConnState(idleOld, http.StateIdle)
	time.Sleep(5 * time.Millisecond)
	dial()
	idleNew := <-accepted
	l.ConnState(idleNew, http.StateIdle)
	time.Sleep(evictGrace)
	dial()
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("a new client was not served at the cap")
	}
	if _, err := idleOld.Read(make([]byte, 1)); err == nil {
		t.Fatal("the longest-idle connection is still open")
	}
	if _, err := busy.Write([]byte{}); err != nil {
		t.Fatalf("the busy connection was closed: %v", err)
	}
	if st := l.Status(time.Hour); st.Evicted != 1 || st.Open != 3 {
		t.Fatalf("status: %+v", st)
	}
}

func TestHealthHandler(t *testing.T) {
	d := testDeps(t)
	d.Inflight = NewInflight()
	h := NewServer(d)
	r := httptest.NewRequest("GET", "/health?deep=1", nil)
	r.Host = "localhost:8787"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"pid": 42`) || !strings.Contains(w.Body.String(), `"state_dir"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	d.Config.MinFreeMB = 1 << 40
	h = NewServer(d)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"degraded"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// The shallow /health answer is pre-encoded around uptime_s: it must stay
// the same document as the deep one's common fields, with a live uptime.
func TestShallowHealthDocument(t *testing.T) {
	d := testDeps(t)
	d.Started = time.Now().Add(-90 * time.Second)
	d.Report = &platform.Report{GOOS: "linux", Supervisor: health.SupervisorRunit}
	d.Restart = health.RestartInfo{Strategy: health.StrategyExec, Why: "because"}
	h := NewServer(d)
	get := func(path string) health.Doc {
		r := httptest.NewRequest("GET", path, nil)
		r.Host = "127.0.0.1:8787"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var doc health.Doc
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %v %s", path, w.Code, err, w.Body)
		}
		return doc
	}
	shallow, deep := get("/health"), get("/health?deep=1")
	if shallow.UptimeS < 89 || shallow.UptimeS > 120 || shallow.Version != "1.0.0" || shallow.PID != 42 ||
		!shallow.StartedAt.Equal(deep.StartedAt) || shallow.Restart != deep.Restart || shallow.Platform != deep.Platform || !shallow.Platform.Supervised() {
		t.Fatalf("shallow %+v\ndeep %+v", shallow, deep)
	}
}
