package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/test/harness"
)

// Each test here is an attack from the security review, run against the
// real binary: another app on the phone (loopback, no Origin, no token),
// a web page, or a client on the LAN.

// fromLoopback is a client that connects from another loopback address,
// as a second app could (127.0.0.2 is as local as 127.0.0.1).
func fromLoopback(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// csrfPost fetches the (public) CSRF token and POSTs as a native client
// would: no Origin, the CSRF header, optional cookies from jar.
func csrfPost(t *testing.T, c *http.Client, base, path, body string) (int, string) {
	t.Helper()
	resp, err := c.Get(base + "/api/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("X-CSRF-Token", tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAttackAnotherAppOnThePhone(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	base := "http://" + p.addr
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		app := fromLoopback(ip)
		// It cannot restart webui, set the first password, or take the bundle.
		if code, b := csrfPost(t, app, base, "/api/restart", "{}"); code != 401 {
			t.Errorf("%s: restart = %d %s", ip, code, b)
		}
		if code, b := csrfPost(t, app, base, "/api/password", `{"new":"the game owns you"}`); code != 401 {
			t.Errorf("%s: first password = %d %s", ip, code, b)
		}
		for _, path := range []string{"/api/diag/bundle", "/api/diag", "/api/settings", "/api/logs", "/api/platform", "/_test/log?n=1"} {
			if code := getStatus(t, app, base+path); code != 401 {
				t.Errorf("%s: GET %s = %d", ip, path, code)
			}
		}
		for _, path := range []string{"/health", "/api/csrf", "/", "/assets/app.js"} {
			if code := getStatus(t, app, base+path); code != 200 {
				t.Errorf("%s: public %s = %d", ip, path, code)
			}
		}
	}
	st := paths.State(filepath.Join(p.dir, "state"))
	if _, err := os.Stat(st.Password()); err == nil {
		t.Fatal("a stranger set the first password")
	}
	if !p.alive() {
		t.Fatal("a stranger restarted or stopped webui")
	}
	// The owner's token: 256 bits or more, 0600; so is the session key.
	tok := ownerToken(t, string(st))
	if len(tok) < 4+43 {
		t.Errorf("token %d chars", len(tok))
	}
	for _, f := range []string{st.Token(), st.SessionKey()} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
	if resp, b, err := p.get("/api/diag"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("owner with the token: %v %v %s", resp, err, b)
	}
}

// signIn opens the link `webui url` prints, as curl -L would, and returns
// the browser (its cookie jar) and the final URL.
func signIn(t *testing.T, p *proc) (*http.Client, string) {
	t.Helper()
	code, out, stderr := runCLI(t, nil, "url", "--state-dir", filepath.Join(p.dir, "state"), "--addr", p.addr)
	link := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(link, "http://"+p.addr+"/login?token=wut_") {
		t.Fatalf("webui url: %d %q %s", code, out, stderr)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.String() != "http://"+p.addr+"/" {
		t.Fatalf("after the link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c, link
}

func TestSignInLinkSessionsAndRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := start(t, opts{dir: dir})
	phone, link := signIn(t, p)
	laptop, _ := signIn(t, p)
	if code := getStatus(t, phone, p.url("/api/settings")); code != 200 {
		t.Fatalf("signed in: %d", code)
	}
	tok := link[strings.Index(link, "token=")+6:]
	if !p.logHas(`"path":"/login"`) || strings.Contains(p.logFile(), tok) || strings.Contains(p.stderr.String(), tok) {
		t.Fatal("the token reached the log (or the sign-in was not logged)")
	}

	// A restart keeps the session.
	p.signal(syscall.SIGTERM)
	p.wait(10 * time.Second)
	os.Remove(filepath.Join(dir, "log", "webui.log")) // so the harness waits for the new "listening" line
	p = start(t, opts{dir: dir, args: []string{"--addr", p.addr}})
	if code := getStatus(t, phone, p.url("/api/settings")); code != 200 {
		t.Fatalf("session after a restart: %d", code)
	}

	// Logout ends that session only, for good.
	if code, b := csrfPost(t, phone, "http://"+p.addr, "/api/logout", "{}"); code != 200 {
		t.Fatalf("logout: %d %s", code, b)
	}
	if code := getStatus(t, phone, p.url("/api/settings")); code != 401 {
		t.Fatalf("after logout: %d", code)
	}
	if code := getStatus(t, laptop, p.url("/api/settings")); code != 200 {
		t.Fatalf("the other session after one logout: %d", code)
	}

	// token --rotate: the old token and every session stop working at once.
	code, out, stderr := runCLI(t, nil, "token", "--rotate", "--state-dir", filepath.Join(dir, "state"), "--addr", p.addr)
	if code != 0 || !strings.Contains(out, "/login?token=wut_") || strings.Contains(out, tok) {
		t.Fatalf("token --rotate: %d %q %s", code, out, stderr)
	}
	if code := getStatus(t, laptop, p.url("/api/settings")); code != 401 {
		t.Fatalf("session after rotation: %d", code)
	}
	req, _ := http.NewRequest("GET", p.url("/api/settings"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := strangerClient().Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("old token after rotation: %v %v", resp, err)
	}
	if resp, _, err := p.get("/api/settings"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("new token: %v %v", resp, err)
	}
}

// The password is for devices without the token: it signs in from
// anywhere, is limited per client with all of loopback one client, and a
// change ends every session.
func TestPasswordLoginLimitAndChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	passwd := func(pw string) {
		code, _, stderr := runCLIStdin(t, pw+"\n", "passwd", "--state-dir", filepath.Join(dir, "state"), "--config", filepath.Join(dir, "webui.conf"))
		if code != 0 {
			t.Fatalf("passwd: %d %s", code, stderr)
		}
	}
	os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# empty\n"), 0o600)
	passwd("correct horse battery")
	p := start(t, opts{dir: dir})
	base := "http://" + p.addr

	jar, _ := cookiejar.New(nil)
	device := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if code, b := csrfPost(t, device, base, "/api/login", `{"password":"correct horse battery"}`); code != 200 {
		t.Fatalf("login: %d %s", code, b)
	}
	if code := getStatus(t, device, base+"/api/settings"); code != 200 {
		t.Fatalf("after login: %d", code)
	}

	// Forty guesses from 127.0.0.2, .3, ...: all loopback is one bucket.
	wrong, limited := 0, 0
	for i := 0; i < 40; i++ {
		code, _ := csrfPost(t, fromLoopback(fmt.Sprintf("127.0.0.%d", 2+i)), base, "/api/login", `{"password":"guess"}`)
		switch code {
		case 401:
			wrong++
		case 429:
			limited++
		default:
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if wrong > 5 || limited < 35 {
		t.Fatalf("%d guesses checked, %d refused: the limit was bypassed", wrong, limited)
	}

	// A new password (the CLI, while the server runs) ends every session.
	passwd("another battery staple")
	if code := getStatus(t, device, base+"/api/settings"); code != 401 {
		t.Fatalf("session after a password change: %d", code)
	}
}

func runCLIStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, out.String(), errb.String()
}

// openPTY returns a pseudo-terminal pair: webui serve prints the sign-in
// link only to a terminal, never into a log.
func openPTY(t *testing.T) (master, slave *os.File) { return harness.OpenPTY(t) }

func TestServePrintsSignInLink(t *testing.T) {
	t.Parallel()
	master, slave := openPTY(t)
	var out syncBuffer
	p := start(t, opts{setupCmd: func(c *exec.Cmd) { c.Stdout, c.Stderr = slave, &out }})
	tok := ownerToken(t, filepath.Join(p.dir, "state"))
	want := "http://" + p.addr + "/login?token=" + tok
	got := make(chan string, 1)
	go func() {
		var seen strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), want) || err != nil {
				got <- seen.String()
				return
			}
		}
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, want) {
			t.Fatalf("terminal output: %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no sign-in link on the terminal")
	}
	// Not a terminal (a supervisor's log, ctl's console.log): no token.
	q := start(t, opts{})
	if strings.Contains(q.stderr.String(), "token=") || strings.Contains(q.logFile(), "token=") {
		t.Fatalf("the token went to a log:\n%s", q.stderr.String())
	}
}

// `webui url --open` hands the platform's opener a single-use link, not
// the token: a command line is visible to every process.
func TestURLOpenHandsOverATicket(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	tok := ownerToken(t, filepath.Join(p.dir, "state"))
	for _, c := range []struct {
		opener string
		env    []string
	}{
		{"xdg-open", nil},
		{"termux-open-url", []string{"TERMUX_VERSION=0.118.1", "PREFIX=/data/data/com.termux/files/usr"}},
	} {
		bin := t.TempDir()
		argvFile := filepath.Join(bin, "argv")
		os.WriteFile(filepath.Join(bin, c.opener), []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+argvFile+"\n"), 0o755)
		env := append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, c.env...)
		code, _, stderr := runCLI(t, env, "url", "--open", "--state-dir", filepath.Join(p.dir, "state"), "--addr", p.addr)
		if code != 0 {
			t.Fatalf("%s: url --open: %d %s", c.opener, code, stderr)
		}
		b, err := os.ReadFile(argvFile)
		link := strings.TrimSpace(string(b))
		if err != nil || !strings.HasPrefix(link, "http://"+p.addr+"/login?token=wut_t") || strings.Contains(link, tok) {
			t.Fatalf("%s got %q (%v)", c.opener, link, err)
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		if code := getStatus(t, browser, link); code != 200 || getStatus(t, browser, p.url("/api/settings")) != 200 {
			t.Fatalf("%s: the opened link did not sign in", c.opener)
		}
		// Once only: another process that read the command line is late.
		jar2, _ := cookiejar.New(nil)
		late := &http.Client{Jar: jar2, Timeout: 10 * time.Second}
		getStatus(t, late, link)
		if code := getStatus(t, late, p.url("/api/settings")); code != 401 {
			t.Fatalf("%s: the link worked twice: %d", c.opener, code)
		}
	}
}
