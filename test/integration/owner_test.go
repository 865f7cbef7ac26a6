package integration

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

// registerServer makes requests to addr carry the owner's token, read from
// stateDir as the CLI reads it: loopback is no trust.
func registerServer(addr, stateDir string) { harness.Register(addr, stateDir) }

// ownerToken reads the access token of the server with this state dir.
func ownerToken(t testing.TB, stateDir string) string {
	t.Helper()
	tok, err := harness.Token(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ownerTransport adds Authorization: Bearer for registered servers.
type ownerTransport = harness.OwnerTransport

// ownerClient is an HTTP client that carries the owner's token.
func ownerClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: ownerTransport{Base: http.DefaultTransport}}
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
