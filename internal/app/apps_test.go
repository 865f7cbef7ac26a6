package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/test/harness"
)

func (s *sandbox) appsDir() string { return paths.AppsDir(s.cf) }

func (s *sandbox) appFile(name, text string) string {
	s.t.Helper()
	f := filepath.Join(s.appsDir(), name+".conf")
	s.write(f, text)
	return f
}

// appLives writes app name's lifetimes file as the supervisor does.
func (s *sandbox) appLives(name string, lines ...string) {
	s.t.Helper()
	s.write(paths.State(s.state).Lifetimes().AppLifetimes(name), strings.Join(lines, "\n")+"\n")
}

// With webui down, list and status read the files and lifetimes; the
// commands that need the server say so with exit 3.
func TestAppNotRunning(t *testing.T) {
	s := newSandbox(t)
	s.appFile("notes", "command = python3 -m http.server\nhealth = /healthz\n")
	broken := s.appFile("broken", "command = x\nport = nine\n")
	dead := deadPID(t, 1)
	s.appLives("notes",
		`{"event":"start","t":"2026-01-01T10:00:00Z","pid":4001}`,
		`{"event":"exit","t":"2026-01-01T10:01:00Z","pid":4001,"uptime_s":60,"verdict":"killed","signal":9,"name":"SIGKILL","detail":"killed by SIGKILL","hint":"phantom"}`,
		`{"event":"start","t":"2026-01-01T11:00:00Z","pid":`+itoa(dead)+`}`,
		`{"event":"exit","t":"2026-01-01T11:00:02Z","pid":`+itoa(dead)+`,"uptime_s":2,"verdict":"crash","code":3,"detail":"exited with code 3"}`,
	)

	r := s.run(app.App, "", "list", "--json")
	r.expect(t, 0, "")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json: %v\n%s", err, r)
	}
	if !strings.HasPrefix(strings.TrimSpace(r.stdout), `[
  {
    "name": "notes",
    "kind": "process",
    "state": "stopped",
    "pid": 0,
    "restarts": 0,
    "route": "/notes/"`) {
		t.Fatalf("list --json does not start with the pinned keys:\n%s", r.stdout)
	}
	if list[1]["name"] != "broken" || list[1]["state"] != "failed" || !strings.Contains(list[1]["error"].(string), broken+":2: port") {
		t.Fatalf("broken app: %v", list[1])
	}
	r = s.run(app.App, "", "list")
	r.expect(t, 0, "")
	if !strings.Contains(r.stdout, "webui is not running") || !lineWith(r.stdout, "notes", "process", "stopped", "/notes/", "crash") ||
		!lineWith(r.stdout, "broken", "failed", broken+":2:") {
		t.Fatalf("list:\n%s", r.stdout)
	}

	r = s.run(app.App, "", "status", "notes", "--json")
	r.expect(t, 0, "")
	var d struct {
		Status  apps.Status
		History []apps.Lifetime
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Status.State != "stopped" || len(d.History) != 2 || d.History[0].PID != dead {
		t.Fatalf("status --json: %v\n%s", err, r)
	}
	r = s.run(app.App, "", "status", "notes")
	r.expect(t, 0, "")
	if !lineWith(r.stdout, "pid 4001", "SIGKILL", "killed", "hint: phantom") || !lineWith(r.stdout, "exit 3", "crash") {
		t.Fatalf("status:\n%s", r.stdout)
	}
	s.run(app.App, "", "status", "nope").expect(t, 2, `no app "nope"`)
	s.run(app.App, "", "status").expect(t, 2, "which app?")
	s.run(app.App, "", "status", "notes", "extra").expect(t, 2, `unexpected argument "extra"`)
	s.run(app.App, "", "list", "--bogus").expect(t, 2, "bogus")
	s.run(app.App, "").expect(t, 2, "which command?")
	s.run(app.App, "", "frob").expect(t, 2, `unknown command "frob"`)
	for _, verb := range []string{"start", "stop", "restart"} {
		s.run(app.App, "", verb, "notes").expect(t, 3, "webui is not running")
	}
	s.run(app.App, "", "reload").expect(t, 3, "webui is not running")

	// diagnose --app: newest first, pinned keys, webui down.
	r = s.run(app.Diagnose, "", "--app", "notes", "--json")
	r.expect(t, 0, "")
	var lts []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &lts); err != nil || len(lts) != 2 {
		t.Fatalf("diagnose --app --json: %v\n%s", err, r)
	}
	if lts[0]["pid"] != float64(dead) || lts[0]["verdict"] != "crash" || lts[0]["code"] != float64(3) || lts[0]["signal"] != nil {
		t.Errorf("newest lifetime: %v", lts[0])
	}
	if lts[1]["pid"] != float64(4001) || lts[1]["verdict"] != "killed" || lts[1]["signal"] != "SIGKILL" || lts[1]["code"] != nil {
		t.Errorf("older lifetime: %v", lts[1])
	}
	r = s.run(app.Diagnose, "", "--app", "notes", "-n", "1")
	r.expect(t, 0, "")
	if strings.Count(r.stdout, "\n") != 1 || !lineWith(r.stdout, "pid "+itoa(dead), "exit 3", "crash") {
		t.Errorf("diagnose --app -n 1:\n%s", r.stdout)
	}
	r = s.run(app.Diagnose, "", "--app", "other")
	r.expect(t, 0, "")
	if !strings.Contains(r.stdout, "no lifetimes recorded for app other") {
		t.Errorf("diagnose --app other:\n%s", r.stdout)
	}
	s.run(app.Diagnose, "", "--app", "../x").expect(t, 2, "not an app name")
}

// app logs reads the log file directly, webui down.
func TestAppLogs(t *testing.T) {
	s := newSandbox(t)
	var text strings.Builder
	for i := 1; i <= 30; i++ {
		text.WriteString("line " + itoa(i) + "\n")
	}
	s.write(paths.Log(s.log).AppLog("notes"), text.String())
	r := s.run(app.App, "", "logs", "notes", "-n", "3")
	r.expect(t, 0, "")
	if r.stdout != "line 28\nline 29\nline 30\n" {
		t.Fatalf("logs -n 3: %q", r.stdout)
	}
	s.run(app.App, "", "logs", "-n", "2", "notes").expect(t, 0, "")
	s.run(app.App, "", "logs", "nope").expect(t, 1, "app nope has no log yet")
	s.run(app.App, "", "logs", "Bad/Name").expect(t, 2, "bad app name")
	s.run(app.App, "", "restart", "notes/../../api/x").expect(t, 2, "bad app name")
	s.run(app.App, "", "logs", "notes", "-n", "x").expect(t, 2, "invalid value")
	s.run(app.App, "", "logs", "notes", "-n", "-1").expect(t, 2, "must be 0 or more")
}

// app add writes a valid file atomically, and refuses what would not load.
func TestAppAdd(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.App, "", "add", "notes", "--command", "python3 app.py --port $PORT", "--route", "/n", "--health", "/healthz",
		"--env", "A=1", "--env", "B=two words", "--restart", "always", "--auth", "off", "--dir", "/srv/notes")
	r.expect(t, 0, "")
	file := filepath.Join(s.appsDir(), "notes.conf")
	if !strings.Contains(r.stdout, "wrote "+file) || !strings.Contains(r.stdout, "webui is not running") {
		t.Fatalf("add:\n%s", r)
	}
	spec, ferr := apps.LoadFile(file)
	if ferr != nil {
		t.Fatal(ferr)
	}
	if spec.Kind != apps.Process || strings.Join(spec.Command, "|") != "python3|app.py|--port|$PORT" || spec.Route != "/n/" ||
		spec.Health != "/healthz" || spec.Auth || !spec.StripPrefix || spec.Restart != "always" || spec.Dir != "/srv/notes" ||
		strings.Join(spec.Env, ",") != "A=1,B=two words" {
		t.Fatalf("spec: %+v", spec)
	}
	before, _ := os.ReadFile(file)
	s.run(app.App, "", "add", "notes", "--command", "other").expect(t, 2, "app notes exists")
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a refused add changed the file")
	}
	s.run(app.App, "", "add", "notes", "--command", "other", "--force", "--strip-prefix", "off").expect(t, 0, "")
	if spec, _ := apps.LoadFile(file); spec.Command[0] != "other" || spec.StripPrefix || !spec.Auth {
		t.Fatalf("forced add: %+v", spec)
	}
	s.run(app.App, "", "add", "site", "--root", "/srv/site", "--route", "/site/").expect(t, 0, "")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "Bad_Name", "--command", "x"}, `bad app name "Bad_Name"`},
		{[]string{"add", "api", "--command", "x", "--route", "/api/"}, "route"},
		{[]string{"add", "two", "--command", "x", "--route", "/notes/sub/"}, "overlaps"},
		{[]string{"add", "two", "--command", "x", "--root", "/srv"}, "exactly one of"},
		{[]string{"add", "two"}, "exactly one of"},
		{[]string{"add", "two", "--command", "x", "--port", "99999"}, "--port"},
		{[]string{"add", "two", "--command", "x", "--restart", "sometimes"}, "restart"},
		{[]string{"add", "two", "--command", "x", "--auth", "maybe"}, "--auth"},
		{[]string{"add", "two", "--command", "x", "--env", "NOEQUALS"}, "KEY=VALUE"},
		{[]string{"add", "two", "--root", "/srv", "--env", "A=1"}, "for a --command app"},
		{[]string{"add", "two", "--upstream", "ftp://x"}, "upstream"},
		{[]string{"add", "two", "--command", "'unclosed"}, "--command"},
		{[]string{"add", "--command", "x"}, "which app?"},
	} {
		s.run(app.App, "", c.args...).expect(t, 2, c.want)
	}
	if _, err := os.Stat(filepath.Join(s.appsDir(), "two.conf")); err == nil {
		t.Fatal("a refused add left a file")
	}
}

// config --check: webui.conf and every app file, file:line each.
func TestConfigCheck(t *testing.T) {
	s := newSandbox(t)
	s.appFile("notes", "command = x\n")
	r := s.run(app.Config, "", "--check")
	r.expect(t, 0, "")
	if !strings.HasPrefix(r.stdout, "ok: "+s.cf+" and 1 apps in "+s.appsDir()) {
		t.Fatalf("check ok:\n%s", r)
	}
	bad := s.appFile("bad", "# a comment\nroute = /bad/\nfrob = 1\n")
	s.appFile("clash", "command = y\nroute = /notes/\n")
	s.write(s.cf, "addr = 127.0.0.1:8787\nbogus_key = 1\n")
	r = s.run(app.Config, "", "--check")
	r.expect(t, 2, "errors in")
	for _, want := range []string{s.cf + ":2:", bad + ":3:", filepath.Join(s.appsDir(), "clash.conf") + ":2:"} {
		if !lineWith(r.stdout, want) {
			t.Errorf("check: no line with %q:\n%s", want, r.stdout)
		}
	}
	s.run(app.Config, "", "--check", "extra").expect(t, 2, "unexpected argument")
}

// fakeWebui is a running webui as far as the app commands can tell: it
// holds the pid file and answers /api/apps as the server does, checking
// the owner's token and, on POSTs, the CSRF header.
type fakeWebui struct {
	mu       sync.Mutex
	calls    []string
	reloadOK bool
}

func startFakeWebui(t *testing.T, s *sandbox) *fakeWebui {
	t.Helper()
	tok, err := auth.LoadOrCreateToken(paths.State(s.state).Token())
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeWebui{reloadOK: true}
	status := `{"name":"notes","kind":"process","state":"running","pid":4242,"restarts":1,"route":"/notes/","uptime":75,"last_verdict":"crash"}`
	h := http.NewServeMux()
	h.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+tok {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"sign in first"}`))
			return
		}
		if r.Method == "POST" && r.Header.Get("X-CSRF-Token") != "csrf-1" {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"error":"missing CSRF token"}`))
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/csrf":
			_, _ = w.Write([]byte(`{"token":"csrf-1"}`))
		case "GET /api/apps":
			_, _ = w.Write([]byte("[" + status + "]"))
		case "GET /api/apps/notes":
			_, _ = w.Write([]byte(`{"status":` + status + `,"history":[{"pid":4200,"verdict":"crash","code":3,"started_at":"2026-01-01T11:00:00Z","lived_s":2,"summary":"exited with code 3"}]}`))
		case "POST /api/apps/notes/restart", "POST /api/apps/notes/start", "POST /api/apps/notes/stop":
			_, _ = w.Write([]byte(`{"status":{"name":"notes","kind":"process","state":"starting","pid":4243,"restarts":2,"route":"/notes/"}}`))
		case "POST /api/apps/reload":
			errs := `[]`
			if !f.reloadOK {
				errs = `["/x/apps.d/bad.conf:3: frob: unknown key"]`
			}
			_, _ = w.Write([]byte(`{"apps":[` + status + `],"errors":` + errs + `}`))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":"no app \"` + filepath.Base(strings.TrimSuffix(r.URL.Path, "/start")) + `\""}`))
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	s.env["WEBUI_ADDR"] = ln.Addr().String()
	pf := holdPIDFile(t, s)
	t.Cleanup(func() { pf.Release() })
	return f
}

func (f *fakeWebui) called() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ", ")
}

// With webui running, the commands go through its API as the owner.
func TestAppRunning(t *testing.T) {
	s := newSandbox(t)
	s.appFile("notes", "command = x\n")
	f := startFakeWebui(t, s)

	r := s.run(app.App, "", "list", "--json")
	r.expect(t, 0, "")
	var list []apps.Status
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].PID != 4242 || list[0].State != "running" {
		t.Fatalf("list --json: %v\n%s", err, r)
	}
	r = s.run(app.App, "", "list")
	r.expect(t, 0, "")
	if strings.Contains(r.stdout, "not running") || !lineWith(r.stdout, "notes", "running", "4242", "1m15s", "/notes/", "crash") {
		t.Fatalf("list:\n%s", r.stdout)
	}
	r = s.run(app.App, "", "status", "notes")
	r.expect(t, 0, "")
	if !lineWith(r.stdout, "pid 4200", "exit 3", "crash") {
		t.Fatalf("status:\n%s", r.stdout)
	}
	r = s.run(app.App, "", "restart", "notes")
	r.expect(t, 0, "")
	if r.stdout != "notes: starting (pid 4243)\n" {
		t.Fatalf("restart: %q", r.stdout)
	}
	if !strings.Contains(f.called(), "GET /api/csrf, POST /api/apps/notes/restart") {
		t.Fatalf("restart without the CSRF token first: %s", f.called())
	}
	s.run(app.App, "", "start", "nope").expect(t, 2, `no app "nope"`)
	s.run(app.App, "", "status", "nope").expect(t, 2, `no app "nope"`)

	r = s.run(app.App, "", "reload")
	r.expect(t, 0, "")
	if !strings.Contains(r.stdout, "reloaded: 1 apps, 0 broken files") {
		t.Fatalf("reload:\n%s", r)
	}
	f.reloadOK = false
	r = s.run(app.App, "", "reload")
	if r.code != 1 || !app.IsSilent(r.err) || !strings.Contains(r.stdout, "/x/apps.d/bad.conf:3: frob: unknown key\n") {
		t.Fatalf("reload with a broken file:\n%s", r)
	}
	f.reloadOK = true

	r = s.run(app.App, "", "add", "site", "--root", "/srv/site")
	r.expect(t, 0, "")
	if !strings.Contains(r.stdout, "webui reloaded its apps") {
		t.Fatalf("add while running:\n%s", r)
	}

	// Another account's token: a clear refusal, not a crash.
	s.write(paths.State(s.state).Token(), strings.Repeat("x", 43)+"\n")
	s.run(app.App, "", "list").expect(t, 1, "refused the owner's token")
}

// A pid file held by a webui that does not listen where the settings say
// is "not running" for the commands that need it.
func TestAppServerNotAnswering(t *testing.T) {
	s := newSandbox(t)
	pf := holdPIDFile(t, s)
	defer pf.Release()
	s.run(app.App, "", "restart", "notes").expect(t, 3, "webui is not running")
	r := s.run(app.App, "", "list", "--json")
	r.expect(t, 0, "")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("list --json: %q", r.stdout)
	}
}

// app logs -f follows the log across a copy-truncate rotation.
func TestAppLogsFollow(t *testing.T) {
	s := newSandbox(t)
	log := paths.Log(s.log).AppLog("notes")
	s.write(log, "old 1\nold 2\n")
	var out harness.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		env := app.Env{Getenv: func(k string) string { return s.env[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
		done <- app.App(ctx, env, []string{"logs", "notes", "-n", "1", "-f"})
	}()
	waitOut := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("no %q in:\n%s", want, out.String())
			}
		}
	}
	waitOut("old 2\n")
	appendTo(t, log, "new 1\n")
	waitOut("new 1\n")
	if err := os.Truncate(log, 0); err != nil { // the supervisor's rotation: copy, then truncate
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	appendTo(t, log, "after rotation\n")
	waitOut("after rotation\n")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Contains(got, "old 1") {
		t.Fatalf("-n 1 printed more: %q", got)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
