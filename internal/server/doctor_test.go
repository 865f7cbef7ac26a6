package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/doctor"
)

// TestDoctorNeedsLogin: /api/doctor says what is wrong with the device, so
// it is for the owner only; the checks must not even run for a stranger.
func TestDoctorNeedsLogin(t *testing.T) {
	d := testDeps(t)
	setPassword(t, d)
	runs, gotOffline := 0, false
	d.Doctor = func(_ context.Context, offline bool) doctor.Report {
		runs++
		gotOffline = offline
		return doctor.Report{Checks: []doctor.Check{}}
	}
	c := newClient(t, d)
	c.bearer = "" // another app on the phone, or the LAN: no token
	for _, remote := range []string{"127.0.0.1:40000", "192.168.1.7:5000"} {
		c.remote = remote
		if w := c.do("GET", "/api/doctor", nil); w.Code != 401 {
			t.Fatalf("without a session from %s: %d %s", remote, w.Code, w.Body)
		}
	}
	if runs != 0 {
		t.Fatalf("the checks ran %d times for an unauthenticated client", runs)
	}
	c.remote = "127.0.0.1:40000"
	if w := c.do("POST", "/api/login", map[string]string{"password": testPassword}); w.Code != 200 {
		t.Fatalf("login: %d", w.Code)
	}
	if w := c.do("POST", "/api/doctor", nil); w.Code < 400 || runs != 0 {
		t.Fatalf("POST: %d", w.Code)
	}
	if w := c.do("GET", "/api/doctor?offline=yes%27", nil); w.Code != 400 || !strings.Contains(w.Body.String(), "offline must be") {
		t.Fatalf("bad offline: %d %s", w.Code, w.Body)
	}
	w := c.do("GET", "/api/doctor?offline=1", nil)
	if m := decode(t, w); w.Code != 200 || m["checks"] == nil || !gotOffline || runs != 1 {
		t.Fatalf("logged in: %d %v (runs %d)", w.Code, m, runs)
	}
}

func TestHealthDeepLastFreeze(t *testing.T) {
	d := testDeps(t)
	at := time.Date(2026, 12, 1, 14, 2, 0, 0, time.UTC)
	var last *diag.Freeze
	d.LastFreeze = func() *diag.Freeze { return last }
	c := newClient(t, d)
	if b := c.do("GET", "/health?deep=1", nil).Body.String(); strings.Contains(b, "last_freeze") {
		t.Fatalf("last_freeze before any freeze:\n%s", b)
	}
	last = &diag.Freeze{Kind: diag.FreezeKindFreeze, At: at, DurationS: 240}
	m := decode(t, c.do("GET", "/health?deep=1", nil))
	lf, _ := m["last_freeze"].(map[string]any)
	if lf["kind"] != "freeze" || lf["duration_s"] != 240.0 || lf["at"] != "2026-12-01T14:02:00Z" || m["status"] != "ok" {
		t.Fatalf("deep health: %v", m)
	}
	if b := c.do("GET", "/health", nil).Body.String(); strings.Contains(b, "last_freeze") {
		t.Fatalf("shallow /health carries last_freeze:\n%s", b)
	}
}
