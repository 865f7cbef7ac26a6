package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// stateDirs maps a server's address to its state dir, so that helpers that
// know only an address sign their requests with the owner's token, read
// from the state dir as the CLI reads it. Loopback is no trust: without
// the token every protected route answers 401.
var stateDirs sync.Map

func registerServer(addr, stateDir string) { stateDirs.Store(addr, stateDir) }

// ownerToken reads the access token of the server with this state dir.
func ownerToken(t testing.TB, stateDir string) string {
	t.Helper()
	b, err := os.ReadFile(paths.State(stateDir).Token())
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// ownerTransport adds Authorization: Bearer for registered servers.
type ownerTransport struct{ base http.RoundTripper }

func (o ownerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if dir, ok := stateDirs.Load(r.URL.Host); ok && r.Header.Get("Authorization") == "" {
		if b, err := os.ReadFile(paths.State(dir.(string)).Token()); err == nil {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(b)))
		}
	}
	return o.base.RoundTrip(r)
}

// ownerClient is an HTTP client that carries the owner's token.
func ownerClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: ownerTransport{base: http.DefaultTransport}}
}

// strangerClient is another app on the phone: same machine, no token.
func strangerClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authLine is the header line a raw request adds to carry the token.
func (p *proc) authLine() string {
	return "Authorization: Bearer " + ownerToken(p.t, filepath.Join(p.dir, "state")) + "\r\n"
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
