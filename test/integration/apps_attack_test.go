package integration

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rawGet sends one request line as written (no client cleans the path)
// with Host host (the server's address when "") and returns the
// response's status and body.
func rawGet(t *testing.T, p *proc, target, host, extra string) (int, string) {
	t.Helper()
	c := p.rawConn()
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if host == "" {
		host = p.addr
	}
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\n"+extra+"Connection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// appsRoutingAttacks runs against TestAppsRouting's server: /site/ is
// public, /notes/ the protected test app.
func appsRoutingAttacks(t *testing.T, p *proc) {
	// A public app's prefix does not open webui's API by path tricks.
	for _, target := range []string{
		"/site/../api/apps", "/site/%2e%2e/api/apps", "/site/%2E%2E/api/apps", "/site/..%2fapi/apps",
		"/site/%2e%2e%2fapi%2fapps", "/site/./../api/diag", "/site//../api/apps", "/notes/../api/apps",
	} {
		code, body := rawGet(t, p, target, "", "")
		if code == 200 && (strings.Contains(body, `"state"`) || strings.Contains(body, `"pid"`)) {
			t.Errorf("GET %s without credentials reached webui's API: %d %.200s", target, code, body)
		}
		if code == 200 && strings.Contains(body, "testapp") {
			t.Errorf("GET %s without credentials reached the protected app: %.200s", target, body)
		}
	}
	// A forged Host is refused for an app route as for the console, even
	// with the owner's token, and the app never hears of it.
	for _, target := range []string{"/notes/headers", "/site/app.js", "/"} {
		if code, body := rawGet(t, p, target, "evil.example", p.authLine()); code != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host evil.example: %d %.200s, want 421", target, code, body)
		}
	}
	// A stranger's request to a protected app: 401 at once, its body
	// never read (the connection closes while most of it is unsent), and
	// the app never sees the request.
	c := p.rawConn()
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /notes/upload-by-stranger HTTP/1.1\r\nHost: "+p.addr+"\r\nContent-Length: 10000000\r\n\r\npartial")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the stranger's POST got no response while its body was unsent: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Errorf("the stranger's POST: %d (close %v), want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
	if b, _ := os.ReadFile(filepath.Join(p.dir, "log", "apps", "notes.log")); strings.Contains(string(b), "upload-by-stranger") {
		t.Errorf("the app saw the stranger's request:\n%s", b)
	}
}
