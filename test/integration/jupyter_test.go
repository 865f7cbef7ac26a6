package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/termux-webui/webui/test/harness"
)

// TestJupyterBehindWebui hosts Debian's jupyter-notebook as an app, as the
// README shows: base_url plus strip_prefix = off, Jupyter's own token off
// behind webui's login. Signed in as the owner (the session cookie of the
// sign-in link), the browser starts a kernel over REST and runs code over
// the kernel's websocket, all through webui. No allow_origin setting:
// Jupyter checks the websocket's Origin against Host, and webui passes the
// client's Host on.
func TestJupyterBehindWebui(t *testing.T) {
	t.Parallel()
	nb, err := exec.LookPath("jupyter-notebook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("jupyter-notebook is missing (scripts/test-deps.sh installs it)")
		}
		t.Skip("jupyter-notebook is missing: apt-get install jupyter-notebook python3-ipykernel")
	}
	dir := t.TempDir()
	root := ""
	if os.Geteuid() == 0 {
		root = " --allow-root" // Jupyter refuses to run as root without it
	}
	conf := fmt.Sprintf(`# Jupyter behind webui's login: its own token is off.
command = sh -c "exec %s --no-browser%s --port=$PORT --NotebookApp.base_url=/jupyter/ --NotebookApp.token='' --NotebookApp.password=''"
port = auto
route = /jupyter/
strip_prefix = off
health = /jupyter/api
`, nb, root)
	if err := os.MkdirAll(filepath.Join(dir, "apps.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apps.d", "jupyter.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, opts{dir: dir})
	base := "http://" + p.addr
	browser, _ := signIn(t, p)
	t.Cleanup(func() { stopJupyter(t, p, browser, dir) })

	// Jupyter's start takes seconds, longer on a loaded machine: webui
	// holds the request until the app is ready.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var ver struct{ Version string }
	for {
		code, b := getJSON(ctx, browser, base+"/jupyter/api", &ver)
		if code == 200 && ver.Version != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("GET /jupyter/api: %d %s\napp log:\n%s", code, b, appLog(dir))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("jupyter-notebook %s", ver.Version)

	// A POST without a token needs Jupyter's XSRF cookie and header: a page
	// sets the cookie, as it would for the browser.
	if code, b := getJSON(ctx, browser, base+"/jupyter/tree", nil); code != 200 {
		t.Fatalf("GET /jupyter/tree: %d %s", code, b)
	}
	xsrf := ""
	u, _ := url.Parse(base + "/jupyter/api/kernels")
	for _, c := range browser.Jar.Cookies(u) {
		if c.Name == "_xsrf" {
			xsrf = c.Value
		}
	}
	if xsrf == "" {
		t.Fatalf("no _xsrf cookie for %s", u)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", u.String(), strings.NewReader("{}"))
	req.Header.Set("X-XSRFToken", xsrf)
	req.Header.Set("Content-Type", "application/json")
	var kernel struct{ ID string }
	if code, b := doJSON(browser, req, &kernel); code != 201 || kernel.ID == "" {
		t.Fatalf("POST /jupyter/api/kernels: %d %s", code, b)
	}

	// A page of another origin may not open the kernel's websocket: Jupyter
	// does check Origin against Host.
	// Jupyter answers the handshake once the kernel answers kernel_info,
	// which can take longer than the browser's 10 s timeout: ctx bounds it.
	wsc := &http.Client{Jar: browser.Jar, Transport: browser.Transport}
	ws := "ws://" + p.addr + "/jupyter/api/kernels/" + kernel.ID + "/channels?session_id="
	if c, res, err := websocket.Dial(ctx, ws+newID(), &websocket.DialOptions{HTTPClient: wsc,
		HTTPHeader: http.Header{"Origin": {"http://evil.example"}}}); err == nil {
		c.CloseNow()
		t.Fatal("a foreign Origin opened the kernel's websocket")
	} else if res == nil || res.StatusCode != 403 {
		t.Fatalf("foreign Origin: %v %v", res, err)
	}
	// webui's own origin may, with no allow_origin setting.
	c, res, err := websocket.Dial(ctx, ws+newID(), &websocket.DialOptions{HTTPClient: wsc,
		HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatalf("kernel websocket through webui: %v %v\napp log:\n%s", res, err, appLog(dir))
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	msgID := newID()
	execReq := map[string]any{
		"header": map[string]any{"msg_id": msgID, "username": "owner", "session": newID(),
			"msg_type": "execute_request", "version": "5.3", "date": time.Now().UTC().Format(time.RFC3339)},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell", "buffers": []any{},
		"content": map[string]any{"code": "print(6*7)", "silent": false, "store_history": false,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true},
	}
	if err := wsjson.Write(ctx, c, execReq); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for {
		var m struct {
			MsgType string `json:"msg_type"`
			Parent  struct {
				MsgID string `json:"msg_id"`
			} `json:"parent_header"`
			Content struct{ Name, Text string }
		}
		if err := wsjson.Read(ctx, c, &m); err != nil {
			t.Fatalf("reading the kernel's messages (seen %v): %v", seen, err)
		}
		seen = append(seen, m.MsgType)
		if m.MsgType == "stream" && m.Parent.MsgID == msgID {
			if m.Content.Name != "stdout" || m.Content.Text != "42\n" {
				t.Fatalf("stream: %s %q", m.Content.Name, m.Content.Text)
			}
			break
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// stopJupyter stops the app through webui, and whatever kernel outlived it.
func stopJupyter(t *testing.T, p *proc, browser *http.Client, dir string) {
	if p.alive() {
		if code, b := csrfPost(t, browser, "http://"+p.addr, "/api/apps/jupyter/stop", ""); code != 200 {
			t.Logf("stop jupyter: %d %s", code, b)
		}
	}
	// Kernels run with a connection file under the test's home.
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == p.pid() {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(b), dir+"/") {
			harness.StopPID(pid, 5*time.Second)
		}
	}
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) (int, string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	return doJSON(c, req, v)
}

// doJSON sends req and decodes a JSON answer into v (unless v is nil).
func doJSON(c *http.Client, req *http.Request, v any) (int, string) {
	res, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, v); err != nil {
			return res.StatusCode, fmt.Sprintf("%s: %v", b, err)
		}
	}
	return res.StatusCode, string(b)
}

func appLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "log", "apps", "jupyter.log"))
	return string(b)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
