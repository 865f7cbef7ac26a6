package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// One webui hosting the test app at /notes/, a public static site at
// /site/ and a protected one at /private/: what a user of each notices.
func TestAppsRouting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	site := filepath.Join(dir, "www")
	os.MkdirAll(filepath.Join(site, "sub"), 0o755)
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<!doctype html><title>site</title>\n"), 0o644)
	os.WriteFile(filepath.Join(site, "app.js"), []byte("console.log('0123456789');\n"), 0o644)
	os.WriteFile(filepath.Join(site, "sub", "a.txt"), []byte("a\n"), 0o644)
	appsDir(t, dir, map[string]string{
		"notes":   appCmd(t) + "route = /notes/\nhealth = /healthz\n",
		"site":    "root = " + site + "\nauth = off\n",
		"private": "root = " + site + "\n",
	})
	p := start(t, opts{dir: dir})
	waitApp(t, p.addr, "notes", 15*time.Second, appRunning)
	owner := ownerClient(10 * time.Second)
	owner.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := p.url("")

	t.Run("proxy, prefix and headers", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", base+"/notes/headers?q=1", nil)
		req.Host = "localhost:" + p.addr[strings.LastIndexByte(p.addr, ':')+1:]
		resp, err := owner.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var seen struct {
			Headers  http.Header `json:"headers"`
			Host     string      `json:"host"`
			Path     string      `json:"path"`
			RawQuery string      `json:"raw_query"`
		}
		json.NewDecoder(resp.Body).Decode(&seen)
		resp.Body.Close()
		h := seen.Headers
		if seen.Path != "/headers" || seen.RawQuery != "q=1" {
			t.Errorf("the app saw path %q query %q, want /headers q=1 (prefix stripped)", seen.Path, seen.RawQuery)
		}
		if seen.Host != req.Host || h.Get("X-Forwarded-Host") != req.Host {
			t.Errorf("the app saw Host %q, X-Forwarded-Host %q; the client sent %q", seen.Host, h.Get("X-Forwarded-Host"), req.Host)
		}
		if h.Get("X-Forwarded-Prefix") != "/notes" && h.Get("X-Forwarded-Prefix") != "/notes/" {
			t.Errorf("X-Forwarded-Prefix %q", h.Get("X-Forwarded-Prefix"))
		}
		if h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-For") != "127.0.0.1" {
			t.Errorf("X-Forwarded-Proto %q, -For %q", h.Get("X-Forwarded-Proto"), h.Get("X-Forwarded-For"))
		}
		// 11: webui's credentials never reach the app.
		if h.Get("Authorization") != "" {
			t.Errorf("the app saw Authorization %q", h.Get("Authorization"))
		}
		resp, err = owner.Get(base + "/notes/redirect")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/notes/login" {
			t.Errorf("/notes/redirect: %d Location %q, want 302 /notes/login", resp.StatusCode, resp.Header.Get("Location"))
		}
		if code, body := getBody(t, owner, base+"/notes/"); code != 200 || !strings.Contains(body, "testapp port=") {
			t.Errorf("/notes/: %d %q", code, body)
		}
		if resp, err := owner.Get(base + "/notes"); err != nil || resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "/notes/" {
			t.Errorf("/notes without its slash: %v %v", resp, err)
		}
	})

	t.Run("credentials never reach the app", func(t *testing.T) {
		t.Parallel()
		browser, _ := signIn(t, p)
		resp, err := browser.Get(base + "/api/csrf")
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ := http.NewRequest("POST", base+"/notes/headers", strings.NewReader("x"))
		req.Header.Set("X-CSRF-Token", tok.Token)
		req.Header.Set("Origin", base)
		req.Header.Set("Cookie", "theme=dark") // the app's own cookie passes
		req.Header.Set("Authorization", "Bearer "+ownerToken(t, filepath.Join(dir, "state")))
		resp, err = browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var seen struct {
			Headers http.Header `json:"headers"`
		}
		json.Unmarshal(b, &seen)
		if resp.StatusCode != 200 {
			t.Fatalf("POST /notes/headers as the signed-in owner: %d %s", resp.StatusCode, b)
		}
		tokenText := ownerToken(t, filepath.Join(dir, "state"))
		for k, v := range seen.Headers {
			joined := strings.Join(v, ";")
			if strings.EqualFold(k, "X-Csrf-Token") || strings.EqualFold(k, "Authorization") || strings.Contains(joined, tokenText) || strings.Contains(joined, tok.Token) {
				t.Errorf("the app saw %s: %s", k, joined)
			}
		}
		for _, c := range browser.Jar.Cookies(req.URL) {
			if strings.Contains(seen.Headers.Get("Cookie"), c.Value) {
				t.Errorf("the app saw webui's cookie %s", c.Name)
			}
		}
		if !strings.Contains(seen.Headers.Get("Cookie"), "theme=dark") {
			t.Errorf("the app's own cookie was dropped: %q", seen.Headers.Get("Cookie"))
		}
	})

	t.Run("SSE first event before the second is sent", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/notes/sse?gate=1", nil)
		resp, err := ownerClient(0).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		// The app sends its second event only after /release: a proxy
		// that buffered would deliver nothing until the context ends.
		rd := bufio.NewReader(resp.Body)
		if line := readData(t, rd); line != "data: tick 0" {
			t.Fatalf("first line %q", line)
		}
		if code, _ := getBody(t, owner, base+"/notes/release"); code != 200 {
			t.Fatalf("release: %d", code)
		}
		if line := readData(t, rd); line != "data: tick 1" {
			t.Fatalf("second event %q", line)
		}
	})

	t.Run("websocket echo", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, "ws://"+p.addr+"/notes/ws", &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + ownerToken(t, filepath.Join(dir, "state"))}, "Origin": {base}}})
		if err != nil {
			t.Fatalf("dial through webui: %v %v", err, resp)
		}
		defer c.CloseNow()
		for i := range 3 {
			msg := fmt.Sprintf("hello %d", i)
			if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			typ, b, err := c.Read(ctx)
			if err != nil || typ != websocket.MessageText || string(b) != msg {
				t.Fatalf("echo %d: %v %q %v", i, typ, b, err)
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	})

	t.Run("static site", func(t *testing.T) {
		t.Parallel()
		anon := strangerClient()
		resp, err := anon.Get(base + "/site/app.js")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || string(b) != "console.log('0123456789');\n" || etag == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("public /site/app.js: %d %q ETag %q type %q", resp.StatusCode, b, etag, resp.Header.Get("Content-Type"))
		}
		req, _ := http.NewRequest("GET", base+"/site/app.js", nil)
		req.Header.Set("If-None-Match", etag)
		if resp, err := anon.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %v %v, want 304", resp, err)
		}
		req, _ = http.NewRequest("GET", base+"/site/app.js", nil)
		req.Header.Set("Range", "bytes=13-22")
		resp, err = anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || string(b) != "0123456789" {
			t.Errorf("Range: %d %q", resp.StatusCode, b)
		}
		if code, body := getBody(t, anon, base+"/site/"); code != 200 || !strings.Contains(body, "<title>site</title>") {
			t.Errorf("/site/: %d %q", code, body)
		}
		if code, body := getBody(t, anon, base+"/site/sub/"); code == 200 || strings.Contains(body, "a.txt") {
			t.Errorf("a directory without index.html is listed: %d %q", code, body)
		}
		// The protected copy of the same site: 401 for a stranger, the
		// file for the owner.
		if code, body := getBody(t, anon, base+"/private/app.js"); code != http.StatusUnauthorized || strings.Contains(body, "console.log") {
			t.Errorf("a stranger at /private/app.js: %d %q", code, body)
		}
		if code, body := getBody(t, owner, base+"/private/app.js"); code != 200 || !strings.Contains(body, "console.log") {
			t.Errorf("the owner at /private/app.js: %d %q", code, body)
		}
	})

	t.Run("a browser without a session is sent to sign in", func(t *testing.T) {
		t.Parallel()
		anon := strangerClient()
		req, _ := http.NewRequest("GET", base+"/notes/", nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
		resp, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("a browser at /notes/: %d Location %q, want 303 /", resp.StatusCode, resp.Header.Get("Location"))
		}
		if code, body := getBody(t, anon, base+"/notes/"); code != http.StatusUnauthorized || !strings.Contains(body, `"login": true`) {
			t.Errorf("a script at /notes/: %d %q", code, body)
		}
	})

	t.Run("attacks", func(t *testing.T) {
		t.Parallel()
		appsRoutingAttacks(t, p)
	})
}

// readData returns the next "data:" line of an event stream.
func readData(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "data:") {
			return line
		}
	}
}
