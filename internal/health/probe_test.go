package health

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func serve(t *testing.T, h http.HandlerFunc) Addr {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a, err := ParseAddr(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// probers are the two ways to probe: a fresh connection each time, and
// the watchdog's kept one.
var probers = []struct {
	name  string
	probe func(t *testing.T) func(context.Context, Addr, time.Duration) (*Doc, error)
}{
	{"fresh", func(t *testing.T) func(context.Context, Addr, time.Duration) (*Doc, error) {
		return func(ctx context.Context, a Addr, d time.Duration) (*Doc, error) { return Probe(ctx, nil, a, d) }
	}},
	{"kept", func(t *testing.T) func(context.Context, Addr, time.Duration) (*Doc, error) {
		p := &Prober{}
		t.Cleanup(p.Close)
		return p.Probe
	}},
}

func TestProbe(t *testing.T) {
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	good := Doc{Status: "ok", Version: "1.2.3", PID: 42, StartedAt: started,
		Platform: Platform{OS: "linux", Supervisor: SupervisorRunit}, Restart: RestartInfo{Strategy: StrategyDelayed, Why: "Android"}}
	a := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(good)
	})
	for _, via := range probers {
		probe := via.probe(t)
		for i := 0; i < 2; i++ {
			h, err := probe(context.Background(), a, time.Second)
			if err != nil {
				t.Fatal(via.name, err)
			}
			if h.PID != 42 || !h.StartedAt.Equal(started) || !h.Platform.Supervised() || h.Restart.Strategy != StrategyDelayed {
				t.Errorf("%s: Probe = %+v", via.name, h)
			}
		}
	}
}

func TestProbeFailures(t *testing.T) {
	refused := func() Addr {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := ParseAddr(ln.Addr().String())
		ln.Close()
		return a
	}()
	silent := func() Addr {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts into the backlog, never answers
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		a, _ := ParseAddr(ln.Addr().String())
		return a
	}()
	for _, tc := range []struct {
		name    string
		addr    Addr
		failure Failure
		says    string
	}{
		{"refused", refused, Refused, "connection refused"},
		{"timeout", silent, Timeout, "no answer in time"},
		{"not 200", serve(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"pid":1}`, http.StatusServiceUnavailable)
		}), BadStatus, "HTTP 503"},
		{"bad json", serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>hi</html>")) }), NotWebui, "not as webui"},
		{"no pid", serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) }), NotWebui, "no pid"},
	} {
		for _, via := range probers {
			t.Run(tc.name+" "+via.name, func(t *testing.T) {
				h, err := via.probe(t)(context.Background(), tc.addr, 300*time.Millisecond)
				pe, ok := err.(*ProbeError)
				if h != nil || !ok || pe.Failure != tc.failure {
					t.Fatalf("Probe = %v, %#v; want failure %d", h, err, tc.failure)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.says) || !strings.Contains(msg, tc.addr.URL(Path)) || strings.Contains(msg, "Get ") {
					t.Errorf("error %q: want the URL once and %q", msg, tc.says)
				}
				if IsRefused(err) != (tc.failure == Refused) || IsNotWebui(err) != (tc.failure == BadStatus || tc.failure == NotWebui) {
					t.Errorf("IsRefused/IsNotWebui disagree with %d", tc.failure)
				}
			})
		}
	}
}

// TestDocJSON pins the document's JSON: processes of other versions parse
// it, and the pre-encoded /health answer depends on the field order.
func TestDocJSON(t *testing.T) {
	d := Doc{Status: "ok", Version: "v", PID: 7, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UptimeS: 1.5,
		Platform: Platform{Android: true, AndroidVersion: "14", Arch: "arm64", OS: "android", Supervisor: SupervisorNone, Termux: true},
		Restart:  RestartInfo{Strategy: StrategyExec, Why: "w"}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":"ok","version":"v","pid":7,"started_at":"2026-01-02T03:04:05Z","uptime_s":1.5,` +
		`"platform":{"android":true,"android_version":"14","arch":"arm64","os":"android","proot":false,"supervisor":"none","termux":true},` +
		`"restart":{"strategy":"exec","why":"w"}}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}
