package integration

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

const (
	oldHash = "pbkdf2-sha256$600000$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	evilKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
)

// Defect 1: config injection through PUT /api/settings.
func TestAttackConfigInjection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	os.WriteFile(conf, []byte("\ufeffrestart_delay = 20s\n# mine\n"), 0o600)
	p := start(t, opts{dir: dir})
	base := "http://" + p.addr
	put := func(body string) (int, string) {
		c := ownerClient(10 * time.Second)
		resp, err := c.Get(base + "/api/csrf")
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		jsonDecode(resp, &tok)
		req, _ := http.NewRequest("PUT", base+"/api/settings", strings.NewReader(body))
		req.Header.Set("X-CSRF-Token", tok.Token)
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	evil := fmt.Sprintf(`{"addr":"[x\nupdate_url = http://evil.example/m.json\nupdate_keys = %s\n; ]:80"}`, evilKey)
	evil = strings.ReplaceAll(evil, "\n", `\n`)
	if code, b := put(evil); code != 400 || !strings.Contains(b, "control characters") {
		t.Fatalf("injected addr: %d %s", code, b)
	}
	if code, b := put(`{"addr":"[x]:80"}`); code != 400 {
		t.Fatalf("bad host: %d %s", code, b)
	}
	if b, _ := os.ReadFile(conf); string(b) != "\ufeffrestart_delay = 20s\n# mine\n" {
		t.Fatalf("config changed by a refused PUT: %q", b)
	}
	// A BOM on the first line: the key is replaced, not set twice.
	if code, b := put(`{"restart_delay":"5s"}`); code != 200 {
		t.Fatalf("PUT restart_delay: %d %s", code, b)
	}
	if b, _ := os.ReadFile(conf); string(b) != "restart_delay = 5s\n# mine\n" {
		t.Fatalf("after the PUT: %q", b)
	}
	code, out, stderr := runCLI(t, nil, "config", "--config", conf)
	if code != 0 || strings.Contains(out, "evil") {
		t.Fatalf("config loads: %d %s %s", code, out, stderr)
	}

	// A config file that is a symlink is written through to its target.
	real := filepath.Join(dir, "real.conf")
	os.Rename(conf, real)
	os.Symlink("real.conf", conf)
	if code, b := put(`{"restart_delay":"7s"}`); code != 200 {
		t.Fatalf("PUT through a symlink: %d %s", code, b)
	}
	if fi, err := os.Lstat(conf); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), "restart_delay = 7s") {
		t.Fatalf("target: %q", b)
	}
}

func jsonDecode(resp *http.Response, v any) {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_ = jsonUnmarshal(b, v)
}

// Defect 4: no secret file is readable by others.
func TestAttackWorldReadableHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	// An older `webui passwd` kept the hash in a 0644 config: serve moves
	// it into the state dir, 0600, and out of the config file.
	os.WriteFile(conf, []byte("# mine\npassword_hash = "+oldHash+"\n"), 0o644)
	p := start(t, opts{dir: dir})
	p.mustHealthy()
	if b, _ := os.ReadFile(conf); string(b) != "# mine\n" {
		t.Fatalf("config after the move: %q", b)
	}
	if b, err := os.ReadFile(paths.State(filepath.Join(dir, "state")).Password()); err != nil || strings.TrimSpace(string(b)) != oldHash {
		t.Fatalf("state dir hash: %q %v", b, err)
	}
	if !strings.Contains(p.stderr.String(), "moved password_hash out of") {
		t.Errorf("the move was not reported:\n%s", p.stderr.String())
	}
	// `webui passwd` into a 0644 config leaves it without a hash.
	os.WriteFile(conf, []byte("password_hash = "+oldHash+"\n"), 0o644)
	code, _, stderr := runCLIStdin(t, "correct horse battery\n", "passwd", "--config", conf, "--state-dir", filepath.Join(dir, "state"))
	if code != 0 {
		t.Fatalf("passwd: %d %s", code, stderr)
	}
	if b, _ := os.ReadFile(conf); strings.Contains(string(b), "pbkdf2") {
		t.Fatalf("the hash stayed in the config: %q", b)
	}
	filepath.Walk(filepath.Join(dir, "state"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is mode %04o", path, fi.Mode().Perm())
		}
		return nil
	})
}

// Defect 5: secrets on argv, and secrets that escaped redaction.
func TestAttackSecretsLeak(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, nil, "serve", "--password-hash", oldHash)
	if code != 2 || !strings.Contains(stderr, "webui passwd") {
		t.Fatalf("--password-hash: %d %s", code, stderr)
	}
	dir := t.TempDir()
	// A commented-out old hash, and a BOM line.
	os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("\ufeff# password_hash = "+oldHash+"\nrestart_delay = 15s\n"), 0o600)
	p := start(t, opts{dir: dir})
	tok := ownerToken(t, filepath.Join(dir, "state"))
	// What an strace of a restart holds: the config, cookies, a login body.
	trace := strings.Join([]string{
		`read(3, "\xef\xbb\xbfpassword_hash = ` + oldHash + `\n", 4096) = 120`,
		`read(5, "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: webui_session=wus1.abc.1999999999.xyz\r\n\r\n{\"password\":\"hunter22 secret\"}", 4096) = 90`,
		`write(5, "GET /api/diag HTTP/1.1\r\nAuthorization: Bearer ` + tok[:20] + `...", 64) = 64`,
	}, "\n") + "\n"
	lifetimes := filepath.Join(dir, "state", "lifetimes")
	os.WriteFile(filepath.Join(lifetimes, "20200101T000000.000000Z-77.restart-1.strace"), []byte(trace), 0o600)
	os.WriteFile(filepath.Join(lifetimes, "20200101T000000.000000Z-77.jsonl"), []byte(
		`{"event":"first-line","t":"2020-01-01T00:00:00Z","pid":77,"argv":["webui","serve","--password-hash=`+oldHash+`"]}`+"\n"), 0o600)

	secrets := []string{"pbkdf2-sha256", "hunter22", tok[:12], "wus1.abc"}
	resp, err := p.client.Get(p.url("/api/diag/bundle"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bundle: %v %v", resp, err)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := 0
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		files++
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("bundle file %s holds %q:\n%s", h.Name, s, b)
			}
		}
	}
	resp.Body.Close()
	if files < 5 {
		t.Fatalf("bundle has %d files", files)
	}
	_, body, err := p.get("/api/diag?id=77")
	if err != nil || !strings.Contains(string(body), "--password-hash=(redacted") {
		t.Fatalf("/api/diag?id=77: %v %s", err, body)
	}
	for _, s := range secrets {
		if strings.Contains(string(body), s) {
			t.Errorf("/api/diag holds %q", s)
		}
	}
}

// Defect 6.
func TestAttackLowDefects(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--update-keys", "AAAA")
	if code != 2 || !strings.Contains(stderr, "update_keys") {
		t.Fatalf("invalid update_keys: %d %s", code, stderr)
	}
	dir := t.TempDir()
	lifetimes := filepath.Join(dir, "state", "lifetimes")
	os.MkdirAll(lifetimes, 0o700)
	os.WriteFile(filepath.Join(lifetimes, "20200101T000000.000000Z-55.jsonl"), []byte(
		`{"event":"first-line","t":"2020-01-01T00:00:00Z","pid":"x"}`+"\n"+
			`{"event":"exit","t":"2020-01-01T00:00:01Z","reason":"SIGTERM","code":0}`+"\n"), 0o600)
	lts := diagnose(t, filepath.Join(dir, "state"))
	if len(lts) != 1 || lts[0].Verdict != "corrupt_record" {
		t.Fatalf("wrong-typed record: %+v", lts)
	}
	p := start(t, opts{})
	for host, want := range map[string]int{"127.0.0.1:1.evil.com": 421, "127.0.0.1:" + strings.Split(p.addr, ":")[1]: 200, "localhost:x": 421} {
		req, _ := http.NewRequest("GET", p.url("/health"), nil)
		req.Host = host
		resp, err := strangerClient().Do(req)
		if err != nil || resp.StatusCode != want {
			t.Errorf("Host %s: %v %v, want %d", host, resp, err, want)
		}
	}
}

// Defect 7: behind a TLS proxy at public_url.
func TestBehindTLSProxy(t *testing.T) {
	t.Parallel()
	const public = "https://phone.tailnet.ts.net"
	p := start(t, opts{args: []string{"--public-url", public}})
	tok := ownerToken(t, filepath.Join(p.dir, "state"))
	proxied := func(req *http.Request) *http.Response {
		req.Host = "phone.tailnet.ts.net"
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := strangerClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := proxied(mustReq("GET", p.url("/login?token="+tok), ""))
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "webui_session" {
			session = c
		}
	}
	if resp.StatusCode != 303 || session == nil || !session.Secure {
		t.Fatalf("sign-in through the proxy: %d %+v", resp.StatusCode, session)
	}
	csrf := proxied(mustReq("GET", p.url("/api/csrf"), ""))
	var ct struct{ Token string }
	jsonDecode(csrf, &ct)
	post := func(origin string) int {
		req := mustReq("POST", p.url("/api/settings"), `{"restart_delay":"9s"}`)
		req.Header.Set("Origin", origin)
		req.Header.Set("X-CSRF-Token", ct.Token)
		req.AddCookie(session)
		resp := proxied(req)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(public); code != 200 {
		t.Fatalf("POST from the public origin: %d", code)
	}
	if code := post("https://evil.example"); code != 403 {
		t.Fatalf("POST from another origin: %d", code)
	}
	// Without public_url, an https Origin through a forged header fails.
	q := start(t, opts{})
	req := mustReq("POST", q.url("/api/nothing"), "{}")
	req.Header.Set("Origin", "https://"+q.addr)
	req.Header.Set("X-Forwarded-Proto", "https")
	if resp, err := q.client.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("forged X-Forwarded-Proto without public_url: %v %v", resp, err)
	}
}

func mustReq(method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	return req
}

// Defect 2: slow and idle clients holding every connection slot.
func TestAttackSlowClients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# empty\n"), 0o600)
	if code, _, stderr := runCLIStdin(t, "correct horse battery\n", "passwd", "--state-dir", filepath.Join(dir, "state"), "--config", filepath.Join(dir, "webui.conf")); code != 0 {
		t.Fatal(stderr)
	}
	const slots = 12
	p := start(t, opts{dir: dir, args: []string{"--max-conns", fmt.Sprint(slots), "--idle-timeout", "60s", "--read-body-timeout", "60s"}})
	var mu sync.Mutex
	var held []net.Conn
	hold := func(what string) {
		c := p.rawConn()
		mu.Lock()
		held = append(held, c)
		mu.Unlock()
		switch what {
		case "half body to /api/login":
			fmt.Fprintf(c, "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{\"password\":")
		case "half headers":
			fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: 127.0")
		case "idle keep-alive":
			fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Read(make([]byte, 4096))
		}
	}
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := 0; i < slots+8; i++ {
		hold([]string{"half body to /api/login", "half headers", "idle keep-alive"}[i%3])
	}
	// An unauthenticated request's body is never waited for: 401 at once.
	c := p.rawConn()
	defer c.Close()
	begin := time.Now()
	fmt.Fprintf(c, "POST /api/restart HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	n, _ := io.ReadAtLeast(c, buf, 12)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 401") {
		t.Fatalf("unauthenticated POST with a pending body: %q", buf[:n])
	}
	// ...and the connection closes: the server does not wait for the rest.
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("the connection stayed open after the 401: %v", err)
	}
	t.Logf("401 and close to a half-sent body after %s", time.Since(begin).Round(time.Millisecond))
	// A new client is served although every slot was held.
	for i := 0; i < 3; i++ {
		begin = time.Now()
		cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := cl.Get(p.url("/health"))
		if err != nil {
			t.Fatalf("health with every slot held by slow clients: %v", err)
		}
		resp.Body.Close()
		t.Logf("/health answered in %s with every slot held", time.Since(begin).Round(time.Millisecond))
	}
	if !p.alive() {
		t.Fatal("webui died")
	}
}

// A damaged secret stops the start with a clear error and is left as it
// was. The secrets load once the server listens (they overlap the first
// client's connect), so the refused server has held the port: it must be
// free again, and the record must say why the lifetime ended.
func TestDamagedTokenRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := paths.State(filepath.Join(dir, "state"))
	if err := os.MkdirAll(string(state), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state.Token(), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := start(t, opts{dir: dir, noWait: true, args: []string{"--addr", addr}})
	code, sig := p.wait(15 * time.Second)
	if code != 2 || sig != 0 {
		t.Fatalf("serve with a damaged token: exit %d, signal %v; want 2", code, sig)
	}
	if out := p.stderr.String(); !strings.Contains(out, "is too short: run `webui token --rotate`") {
		t.Errorf("the refusal does not say what to do:\n%s", out)
	}
	if b, _ := os.ReadFile(state.Token()); string(b) != "short\n" {
		t.Errorf("the damaged token was changed to %q", b)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the refused server left %s taken: %v", addr, err)
	}
	l.Close()
	newest := diagNewest(t, string(state), p.pid())
	wantVerdict(t, newest, "died_in_startup", "config error: access token", "too short")
	lt := diagDetail(t, string(state), newest.ID)
	exits := lt.events("exit")
	if len(exits) != 1 || exits[0]["reason"] != "config error" || exits[0]["code"] != float64(2) {
		t.Errorf("the lifetime record's exit: %v", exits)
	}
}
