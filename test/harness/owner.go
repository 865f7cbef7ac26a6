package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/termux-webui/webui/internal/paths"
)

// servers maps a server's address to its state dir, so that requests to
// an address are signed with the owner's token, read from the state dir
// as the CLI reads it. Loopback is no trust: without the token every
// protected route answers 401.
var servers sync.Map

// Register says that the server at addr keeps its state in stateDir.
func Register(addr, stateDir string) { servers.Store(addr, stateDir) }

// Token reads the owner's access token from a state dir.
func Token(stateDir string) (string, error) {
	b, err := os.ReadFile(paths.State(stateDir).Token())
	if err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// AuthHeader is the Authorization value ("Bearer <token>") for the server
// whose state dir this is, or "" when it has written no token (or
// stateDir is "": OwnerTransport then signs for registered servers).
func AuthHeader(stateDir string) string {
	if stateDir == "" {
		return ""
	}
	if t, err := Token(stateDir); err == nil && t != "" {
		return "Bearer " + t
	}
	return ""
}

// OwnerTransport adds Authorization: Bearer for registered servers.
type OwnerTransport struct{ Base http.RoundTripper }

func (o OwnerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if dir, ok := servers.Load(r.URL.Host); ok && r.Header.Get("Authorization") == "" {
		if a := AuthHeader(dir.(string)); a != "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", a)
		}
	}
	return o.Base.RoundTrip(r)
}

// CSRFPost POSTs to an API path as the owner: the token from the state
// dir, and the CSRF token and Origin the console would send. Anything but
// 202 Accepted is an error.
func CSRFPost(c *http.Client, addr, stateDir, path string) error {
	resp, err := c.Get("http://" + addr + "/api/csrf")
	if err != nil {
		return err
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("POST", "http://"+addr+path, nil)
	req.Header.Set("X-CSRF-Token", tok.Token)
	req.Header.Set("Origin", "http://"+addr)
	if a := AuthHeader(stateDir); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}
