package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
)

// `webui serve` in-process, wired as in production: it answers /health
// with this process's pid, signs in with the token `webui url` prints,
// refuses a second server on the same pid file, and stops cleanly when its
// context ends, leaving a lifetime that diagnose calls a clean exit.
func TestServeInProcess(t *testing.T) {
	s := newSandbox(t)
	s.env["WEBUI_UPDATE_INTERVAL"] = "0"
	s.env["WEBUI_LOG_STDERR"] = "off"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		var out, errOut strings.Builder
		env := app.Env{Getenv: func(k string) string { return s.env[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
		err := app.Serve(ctx, env, nil)
		done <- result{code: exitcode.Of(err), err: err, stdout: out.String(), stderr: errOut.String()}
	}()
	addr := s.env["WEBUI_ADDR"]
	var health map[string]any
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			if err == nil {
				break
			}
		}
		select {
		case r := <-done:
			t.Fatalf("serve ended before answering: %s", r)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /health: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if health["status"] != "ok" || health["pid"] != float64(os.Getpid()) {
		t.Errorf("/health %v", health)
	}

	link := strings.TrimSpace(s.run(app.URL, "").stdout)
	jar := &cookieJar{}
	c := &http.Client{Jar: jar}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get("http://" + addr + "/api/diag")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/api/diag after signing in with the url's link: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + addr + "/api/diag"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/diag without signing in: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	s.run(app.Serve, "").expect(t, exitcode.Running, "already running")

	cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("serve after its context ended: %s", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
	if _, held, err := proc.Read(paths.Run(s.runDir).PIDFile()); held {
		t.Errorf("pid file still held after serve: %v", err)
	}
	r := s.run(app.Diagnose, "", "--json", "-n", "1")
	var lts []struct {
		PID     int
		Verdict string
	}
	if err := json.Unmarshal([]byte(r.stdout), &lts); err != nil || len(lts) != 1 || lts[0].PID != os.Getpid() || lts[0].Verdict != diag.CleanExit {
		t.Errorf("diagnose after serve: %v %s", err, r)
	}
}

// cookieJar keeps the session cookie for one host.
type cookieJar struct {
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cookies = append(j.cookies, cs...)
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cookies
}
