package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestHealthAndIndex(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	code, h := p.health(false)
	if code != 200 || h.Status != "ok" || h.PID != p.pid() || h.Version == "" || h.StartedAt.IsZero() || h.Platform["os"] != "linux" || h.Restart["strategy"] == "" {
		t.Fatalf("health = %d %+v", code, h)
	}
	code, h = p.health(true)
	if code != 200 || h.Status != "ok" {
		t.Fatalf("deep health = %d %+v", code, h)
	}
	for _, c := range []string{"state_dir", "disk", "accept_loop"} {
		if _, ok := h.Checks[c]; !ok {
			t.Errorf("deep health lacks check %q: %v", c, h.Checks)
		}
	}
	if h.Goroutines <= 0 || h.OpenFDs <= 0 {
		t.Errorf("deep health counts: goroutines %d fds %d", h.Goroutines, h.OpenFDs)
	}
	resp, body, err := p.get("/")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "<title>webui</title>") {
		t.Fatalf("GET / = %v %v %.100s", resp, err, body)
	}
	resp, body, err = p.get("/assets/app.js")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "/health") {
		t.Fatalf("GET /assets/app.js = %v %v", resp, err)
	}
	// One access-log line per request: method, path, status, bytes, duration.
	// The line is written after the response is sent.
	p.logHas(`"path":"/assets/app.js"`)
	log := p.logFile()
	for _, want := range []string{`"method":"GET"`, `"path":"/assets/app.js"`, `"status":200`, `"bytes":`, `"dur_ms":`} {
		if !strings.Contains(log, want) {
			t.Errorf("access log lacks %s", want)
		}
	}
	// The terminal gets human-readable text, not JSON.
	if !strings.Contains(p.stderr.String(), "level=info") || strings.Contains(p.stderr.String(), `{"addr"`) {
		t.Errorf("stderr is not text:\n%s", p.stderr.String())
	}
}

// A dead reader on stdout and stderr (a tee, launcher or journald that went
// away) must not kill the server, however much it logs.
func TestSIGPIPEOnStdoutStderr(t *testing.T) {
	t.Parallel()
	var rOut, wOut, rErr, wErr *os.File
	p := start(t, opts{setupCmd: func(c *exec.Cmd) {
		var err error
		if rOut, wOut, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		if rErr, wErr, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		c.Stdout, c.Stderr = wOut, wErr
	}})
	wOut.Close()
	wErr.Close()
	// Let the pipes fill a little, then kill the readers.
	time.Sleep(100 * time.Millisecond)
	rOut.Close()
	rErr.Close()
	for i := 0; i < 20; i++ {
		resp, _, err := p.get("/_test/log?n=500")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("round %d: %v %v (alive=%v)", i, resp, err, p.alive())
		}
	}
	p.mustHealthy()
	// Info lines reach the file within the log's flush interval.
	n := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n = lines(p.logFile(), "test log line"); n >= 10000 || time.Now().After(deadline) {
			break
		}
	}
	if n < 10000 {
		t.Errorf("log file got %d test lines, want 10000", n)
	}
	// Still dies cleanly when asked, exit 0.
	p.signal(syscall.SIGTERM)
	if code, sig := p.wait(10 * time.Second); code != 0 || sig != 0 {
		t.Fatalf("exit = %d sig %v", code, sig)
	}
}

// hardClose resets the connection (SO_LINGER 0): the server's next write
// gets ECONNRESET/EPIPE.
func hardClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func TestHardCloseStorm(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	auth := p.authLine()
	baseG, baseFD := p.counts()
	const clients = 1000
	var wg sync.WaitGroup
	var started atomic.Int64
	sem := make(chan struct{}, 64)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			path := "/_test/big?size=8388608"
			if i%2 == 1 {
				path = "/_test/slow?d=2s"
			}
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path, auth)
			// Read part of the response, so the close lands mid-response.
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			if _, err := io.ReadAtLeast(c, buf, 64); err == nil {
				started.Add(1)
			}
			hardClose(c)
		}(i)
	}
	wg.Wait()
	if started.Load() < clients*9/10 {
		t.Errorf("only %d of %d responses started", started.Load(), clients)
	}
	p.mustHealthy()
	t.Logf("storm: %d clients hard-closed mid-response; server alive", clients)
	p.settle(baseG, baseFD, 5, 15*time.Second)
}

func TestSlowlorisAndHeaderLimits(t *testing.T) {
	t.Parallel()
	p := start(t, opts{args: []string{"--read-header-timeout", "3s", "--max-header-bytes", "4096"}})
	baseG, baseFD := p.counts()
	const n = 200
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c := p.rawConn()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") // never finished
		conns = append(conns, c)
	}
	// /health still answers promptly while they hold their headers open.
	begin := time.Now()
	p.mustHealthy()
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("/health took %s under slowloris", d)
	}
	// The read-header timeout drops them: each sees EOF or a 408 response.
	var dropped int
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err == nil || len(b) > 0 {
			dropped++
		}
		c.Close()
	}
	if dropped != n {
		t.Errorf("read-header timeout dropped %d of %d slowloris connections", dropped, n)
	}
	// Oversized headers get 431, not a crash.
	c := p.rawConn()
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 64<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %v %v", resp, err)
	}
	c.Close()
	p.mustHealthy()
	p.settle(baseG, baseFD, 5, 15*time.Second)
}

// At the connection cap the accept loop waits for a slot; deep health,
// asked over a connection that was already open, reports it as degraded.
// TestDeepHealthStalledAcceptLoop fills every connection slot with
// requests being served (slow or idle clients would be closed to make
// room), so a new client waits for a slot: deep health reports the stuck
// accept loop, and recovers once the slots free up.
func TestDeepHealthStalledAcceptLoop(t *testing.T) {
	t.Parallel()
	p := start(t, opts{args: []string{"--max-conns", "4", "--stall-after", "500ms", "--read-header-timeout", "30s"}})
	get := func() (int, string) {
		resp, err := p.client.Get(p.url("/health?deep=1"))
		if err != nil {
			t.Fatalf("deep health: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != 200 {
		t.Fatalf("before: %d %s", code, body)
	}
	auth := p.authLine()
	var busy []net.Conn
	defer func() {
		for _, c := range busy {
			c.Close()
		}
	}()
	for i := 0; i < 3; i++ {
		c := p.rawConn()
		fmt.Fprintf(c, "GET /_test/slow?d=20s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", auth)
		busy = append(busy, c)
	}
	// The fourth slot: a slow request with deep health pipelined behind
	// it, so the question is asked from inside a full house.
	asker := p.rawConn()
	defer asker.Close()
	fmt.Fprintf(asker, "GET /_test/slow?d=1500ms HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nGET /health?deep=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", auth)
	time.Sleep(200 * time.Millisecond)
	// One more client waits for a slot: none is free, none may be taken.
	extra, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
	if err == nil {
		defer extra.Close()
	}
	asker.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(asker)
	for i := 0; i < 2; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i == 1 && (resp.StatusCode != 503 || !strings.Contains(string(b), `"status": "degraded"`) || !strings.Contains(string(b), "waiting_slot")) {
			t.Fatalf("stalled: %d %s", resp.StatusCode, b)
		}
	}
	for _, c := range busy {
		c.Close()
	}
	busy = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := get()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deep health did not recover: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDeepHealthDegraded(t *testing.T) {
	t.Parallel()
	t.Run("state dir unwritable", func(t *testing.T) {
		t.Parallel()
		p := start(t, opts{})
		state := filepath.Join(p.dir, "state")
		if err := os.RemoveAll(state); err != nil {
			t.Fatal(err)
		}
		// A file where the directory was: not writable even for root.
		if err := os.WriteFile(state, []byte("x"), 0o400); err != nil {
			t.Fatal(err)
		}
		code, h := p.health(true)
		if code != 503 || h.Status != "degraded" || !strings.Contains(string(h.Checks["state_dir"]), `"ok": false`) {
			t.Fatalf("deep health = %d %+v", code, h)
		}
		if code, _ := p.health(false); code != 200 {
			t.Fatalf("shallow health = %d, want 200", code)
		}
	})
	t.Run("disk below floor", func(t *testing.T) {
		t.Parallel()
		p := start(t, opts{args: []string{"--min-free-mb", "999999999"}})
		code, h := p.health(true)
		if code != 503 || h.Status != "degraded" || !strings.Contains(string(h.Checks["disk"]), `"ok": false`) {
			t.Fatalf("deep health = %d %+v", code, h)
		}
	})
}

func TestGracefulDrain(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := p.client.Get(p.url("/_test/slow?d=1500ms"))
		if err != nil {
			res <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{string(b), err}
	}()
	time.Sleep(400 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	// No new connections once draining.
	if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		c.Close()
		t.Errorf("new connection accepted during drain")
	}
	r := <-res
	if r.err != nil || !strings.HasSuffix(r.body, "done\n") {
		t.Fatalf("in-flight request cut: %v %q", r.err, r.body)
	}
	if code, sig := p.wait(10 * time.Second); code != 0 || sig != 0 {
		t.Fatalf("exit = %d sig %v", code, sig)
	}
}

func TestDrainTimeoutAndSecondSIGINT(t *testing.T) {
	t.Parallel()
	t.Run("drain timeout", func(t *testing.T) {
		t.Parallel()
		p := start(t, opts{args: []string{"--shutdown-timeout", "500ms"}})
		go p.get("/_test/slow?d=20s")
		time.Sleep(300 * time.Millisecond)
		begin := time.Now()
		p.signal(syscall.SIGTERM)
		if code, sig := p.wait(10 * time.Second); code != 0 || sig != 0 {
			t.Fatalf("exit = %d sig %v", code, sig)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("drain took %s with a 500ms timeout", d)
		}
		if !strings.Contains(p.logFile(), "drain timed out") {
			t.Errorf("log does not say the drain timed out")
		}
	})
	t.Run("second SIGINT", func(t *testing.T) {
		t.Parallel()
		p := start(t, opts{args: []string{"--shutdown-timeout", "60s"}})
		go p.get("/_test/slow?d=30s")
		time.Sleep(300 * time.Millisecond)
		p.signal(syscall.SIGINT)
		time.Sleep(300 * time.Millisecond)
		if !p.alive() {
			t.Fatal("exited on the first SIGINT while a request was in flight")
		}
		p.signal(syscall.SIGINT)
		if code, _ := p.wait(5 * time.Second); code != 130 {
			t.Fatalf("exit = %d, want 130", code)
		}
	})
}

func TestRequestSafety(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	_, body, err := p.get("/api/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil || len(tok.Token) < 32 {
		t.Fatalf("csrf token: %q %v", body, err)
	}
	origin := "http://" + p.addr
	cases := []struct {
		name   string
		method string
		host   string
		hdr    map[string]string
		want   int
	}{
		{"no token", "POST", "", nil, 403},
		{"wrong token", "POST", "", map[string]string{"X-CSRF-Token": "nope"}, 403},
		{"token, foreign origin", "POST", "", map[string]string{"X-CSRF-Token": tok.Token, "Origin": "http://evil.example"}, 403},
		{"token, cross-site fetch", "POST", "", map[string]string{"X-CSRF-Token": tok.Token, "Sec-Fetch-Site": "cross-site"}, 403},
		{"token, same origin", "POST", "", map[string]string{"X-CSRF-Token": tok.Token, "Origin": origin}, 404},
		{"DELETE without token", "DELETE", "", nil, 403},
		{"rebinding host, GET", "GET", "evil.example:8787", nil, 421},
		{"rebinding host, csrf", "GET", "attacker.test", nil, 421},
		{"localhost host", "GET", "localhost:8787", nil, 404},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, p.url("/api/nothing-here"), strings.NewReader("{}"))
		if strings.HasPrefix(c.host, "attacker") {
			req, _ = http.NewRequest(c.method, p.url("/api/csrf"), nil)
		}
		if c.host != "" {
			req.Host = c.host
		}
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d (%s)", c.name, resp.StatusCode, c.want, b)
		}
	}
}

func TestPanicsAreRecovered(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	resp, body, err := p.get("/_test/panic")
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("handler panic: %v %v %s", resp, err, body)
	}
	if resp, _, err := p.get("/_test/gopanic"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("gopanic: %v %v", resp, err)
	}
	for _, want := range []string{"test handler panic", "test background goroutine panic"} {
		if !p.logHas(want) {
			t.Errorf("log lacks %q", want)
		}
	}
	p.mustHealthy()
}
