package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lifeRec is one entry of `webui diagnose --json`, read as a script would:
// by the documented field names.
type lifeRec struct {
	ID        string           `json:"id"`
	PID       int              `json:"pid"`
	Version   string           `json:"version"`
	StartedAt time.Time        `json:"started_at"`
	LivedS    float64          `json:"lived_s"`
	Verdict   string           `json:"verdict"`
	Reason    string           `json:"reason"`
	Summary   string           `json:"summary"`
	Evidence  []string         `json:"evidence"`
	Hint      string           `json:"hint"`
	Addr      string           `json:"addr"`
	Panics    int              `json:"panics"`
	Signals   []string         `json:"signals"`
	RestartOf string           `json:"restart_of"`
	Record    string           `json:"record"`
	CrashFile string           `json:"crash_file"`
	Events    []map[string]any `json:"events"`
	Crash     string           `json:"crash"`
}

func (lt lifeRec) String() string {
	return fmt.Sprintf("%s pid %d %s: %s [%s]", lt.ID, lt.PID, lt.Verdict, lt.Summary, strings.Join(lt.Evidence, "; "))
}

// events returns the record's events named name (diagnose --id only).
func (lt lifeRec) events(name string) []map[string]any {
	var out []map[string]any
	for _, ev := range lt.Events {
		if ev["event"] == name {
			out = append(out, ev)
		}
	}
	return out
}

func (p *proc) stateDir() string { return filepath.Join(p.dir, "state") }

// runDiagnose runs `webui diagnose --state-dir dir args...` with an empty
// config file: diagnose must not depend on the config that killed the
// server.
func runDiagnose(t *testing.T, stateDir string, args ...string) (int, string, string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "empty.conf")
	if err := os.WriteFile(conf, []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return runCLI(t, nil, append([]string{"diagnose", "--state-dir", stateDir, "--config", conf}, args...)...)
}

// diagList is `webui diagnose --json`: every lifetime, newest first.
func diagList(t *testing.T, stateDir string) []lifeRec {
	t.Helper()
	code, out, stderr := runDiagnose(t, stateDir, "--json", "-n", "0")
	if code != 0 {
		t.Fatalf("diagnose --json: exit %d\n%s%s", code, out, stderr)
	}
	var lts []lifeRec
	if err := json.Unmarshal([]byte(out), &lts); err != nil {
		t.Fatalf("diagnose --json: %v\n%s", err, out)
	}
	return lts
}

// detail is `webui diagnose --json --id id`.
func diagDetail(t *testing.T, stateDir, id string) lifeRec {
	t.Helper()
	code, out, stderr := runDiagnose(t, stateDir, "--json", "--id", id)
	if code != 0 {
		t.Fatalf("diagnose --id %s: exit %d\n%s%s", id, code, out, stderr)
	}
	var lt lifeRec
	if err := json.Unmarshal([]byte(out), &lt); err != nil {
		t.Fatalf("diagnose --id %s: %v\n%s", id, err, out)
	}
	return lt
}

// diagNewest asserts that the newest lifetime in stateDir is pid's, and returns it.
func diagNewest(t *testing.T, stateDir string, pid int) lifeRec {
	t.Helper()
	lts := diagList(t, stateDir)
	if len(lts) == 0 {
		t.Fatalf("no lifetimes in %s", stateDir)
	}
	if lts[0].PID != pid {
		t.Fatalf("newest lifetime is pid %d, want %d: %v", lts[0].PID, pid, lts)
	}
	return lts[0]
}

func wantVerdict(t *testing.T, lt lifeRec, verdict string, summary ...string) {
	t.Helper()
	if lt.Verdict != verdict {
		t.Errorf("verdict = %q, want %q: %v", lt.Verdict, verdict, lt)
	}
	for _, s := range summary {
		if !strings.Contains(lt.Summary, s) {
			t.Errorf("summary lacks %q: %v", s, lt)
		}
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasEvidence reports whether some evidence line starts with prefix.
func hasEvidence(lt lifeRec, prefix string) bool {
	for _, e := range lt.Evidence {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

var testhooksLoc = regexp.MustCompile(`internal/testhooks/on\.go:\d+`)

// trigger requests a route that kills the server: the response may be cut
// short by the death it causes, so only the death (p.wait) is checked.
func (p *proc) trigger(path string) {
	if resp, err := p.client.Get(p.url(path)); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func TestDiagSIGTERM(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.mustHealthy()
	p.signal(syscall.SIGTERM)
	if code, sig := p.wait(10 * time.Second); code != 0 || sig != 0 {
		t.Fatalf("exit = %d sig %v", code, sig)
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "signal", "caught signal 15 (SIGTERM)", "exit 0")
	for _, e := range []string{"first-line ", "installed ", "ready ", `exit "SIGTERM" code 0`} {
		if !hasEvidence(lt, e) {
			t.Errorf("evidence lacks %q: %v", e, lt)
		}
	}
	if lt.Version == "" || lt.LivedS <= 0 || lt.Addr != p.addr {
		t.Errorf("version %q lived %v addr %q (want %q)", lt.Version, lt.LivedS, lt.Addr, p.addr)
	}
	// A clean exit keeps no (empty) crash file.
	if m, _ := filepath.Glob(filepath.Join(p.stateDir(), "lifetimes", "*.crash")); len(m) != 0 || lt.CrashFile != "" {
		t.Errorf("crash files after a clean exit: %v %q", m, lt.CrashFile)
	}
}

func TestDiagSIGKILL(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.mustHealthy()
	p.signal(syscall.SIGKILL)
	if _, sig := p.wait(10 * time.Second); sig != syscall.SIGKILL {
		t.Fatalf("sig = %v", sig)
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "killed_untraced", "killed without a trace", "SIGKILL")
	if !hasEvidence(lt, "last event ready") {
		t.Errorf("evidence lacks the last event: %v", lt)
	}
}

func TestDiagCrash(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.trigger("/_test/crash")
	if code, _ := p.wait(10 * time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2 (Go's crash exit)", code)
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "crash", "panic: test unrecovered panic")
	if !testhooksLoc.MatchString(lt.Summary) {
		t.Errorf("summary lacks the file:line of the panic: %v", lt)
	}
	if lt.CrashFile == "" || !hasEvidence(lt, "crash output in ") {
		t.Errorf("no crash file: %v", lt)
	}
	d := diagDetail(t, p.stateDir(), strconv.Itoa(p.pid()))
	if !strings.Contains(d.Crash, "panic: test unrecovered panic") || !strings.Contains(d.Crash, "goroutine ") {
		t.Errorf("diagnose --id lacks the crash output:\n%.2000s", d.Crash)
	}
}

func TestDiagFatalError(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.trigger("/_test/fatal")
	if code, _ := p.wait(10 * time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2", code)
	}
	if !strings.Contains(p.stderr.String(), "fatal error: concurrent map") {
		t.Fatalf("not the fatal error under test:\n%.2000s", p.stderr.String())
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "crash", "concurrent map")
	if !testhooksLoc.MatchString(lt.Summary) {
		t.Errorf("summary lacks the file:line of the fault: %v", lt)
	}
}

func TestDiagRecoveredGoroutinePanic(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	if resp, _, err := p.get("/_test/gopanic"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("gopanic: %v %v", resp, err)
	}
	var lt lifeRec
	waitFor(t, 5*time.Second, "the panic record", func() bool {
		lt = diagNewest(t, p.stateDir(), p.pid())
		return lt.Panics > 0
	})
	p.mustHealthy()
	wantVerdict(t, lt, "running", "still running")
	if lt.Panics != 1 {
		t.Errorf("panics = %d, want 1", lt.Panics)
	}
	d := diagDetail(t, p.stateDir(), strconv.Itoa(p.pid()))
	pe := d.events("panic")
	if len(pe) != 1 {
		t.Fatalf("panic events: %v", pe)
	}
	stack, _ := pe[0]["stack"].(string)
	if pe[0]["value"] != "test background goroutine panic" || pe[0]["where"] != "test background" ||
		!strings.Contains(stack, "goroutine ") || !strings.Contains(stack, "internal/testhooks/on.go:") {
		t.Errorf("panic event: %v", pe[0])
	}
	// The text form says so on the lifetime's line.
	if _, out, _ := runDiagnose(t, p.stateDir()); !strings.Contains(out, "[1 recovered panics]") {
		t.Errorf("diagnose line lacks the panic count:\n%s", out)
	}
}

func TestDiagSIGUSR1(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.signal(syscall.SIGUSR1)
	var lt lifeRec
	waitFor(t, 5*time.Second, "the SIGUSR1 record", func() bool {
		lt = diagNewest(t, p.stateDir(), p.pid())
		return len(lt.Signals) > 0
	})
	p.mustHealthy()
	wantVerdict(t, lt, "running")
	if len(lt.Signals) != 1 || lt.Signals[0] != "SIGUSR1" {
		t.Errorf("signals = %v", lt.Signals)
	}
	// By pid and by a prefix of the id, with the stacks.
	for _, id := range []string{strconv.Itoa(p.pid()), lt.ID[:len(lt.ID)-2]} {
		d := diagDetail(t, p.stateDir(), id)
		if d.ID != lt.ID {
			t.Fatalf("--id %s found %s, want %s", id, d.ID, lt.ID)
		}
		se := d.events("signal")
		if len(se) != 1 {
			t.Fatalf("signal events: %v", se)
		}
		ev := se[0]
		stacks, _ := ev["stacks"].(string)
		if ev["name"] != "SIGUSR1" || ev["signal"] != float64(syscall.SIGUSR1) || !strings.Contains(stacks, "goroutine ") ||
			!strings.Contains(stacks, "internal/diag.") {
			t.Errorf("signal event: %.500v", ev)
		}
		for _, k := range []string{"open_fds", "goroutines", "rss_bytes", "uptime_s"} {
			if n, ok := ev[k].(float64); !ok || n <= 0 {
				t.Errorf("signal event %s = %v", k, ev[k])
			}
		}
		if _, ok := ev["inflight"]; !ok {
			t.Errorf("signal event lacks inflight")
		}
	}
	code, out, _ := runDiagnose(t, p.stateDir(), "--id", strconv.Itoa(p.pid()))
	if code != 0 || !strings.Contains(out, `"name":"SIGUSR1"`) || !strings.Contains(out, "    goroutine ") {
		t.Errorf("diagnose --id (text): exit %d\n%.3000s", code, out)
	}
	if !p.logHas("SIGUSR1: stack dump") {
		t.Errorf("log lacks the stack dump")
	}
}

func TestDiagSIGHUP(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	p.signal(syscall.SIGHUP)
	var lt lifeRec
	waitFor(t, 5*time.Second, "the SIGHUP record", func() bool {
		lt = diagNewest(t, p.stateDir(), p.pid())
		return len(lt.Signals) > 0
	})
	time.Sleep(100 * time.Millisecond)
	p.mustHealthy()
	wantVerdict(t, lt, "running")
	if len(lt.Signals) != 1 || lt.Signals[0] != "SIGHUP" {
		t.Errorf("signals = %v", lt.Signals)
	}
	d := diagDetail(t, p.stateDir(), lt.ID)
	if se := d.events("signal"); len(se) != 1 || !strings.Contains(fmt.Sprint(se[0]["action"]), "still running") {
		t.Errorf("signal events: %.300v", se)
	}
}

// Real SIGPIPEs, from writes to connections the client reset mid-response,
// leave one marker a minute, however many there are, and never stop the
// server.
func TestDiagSIGPIPE(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	auth := p.authLine()
	storm := func(n int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				fmt.Fprintf(c, "GET /_test/big?size=8388608 HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", auth)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				_, _ = io.ReadAtLeast(c, buf, 64)
				hardClose(c)
			}()
		}
		wg.Wait()
	}
	pipes := func() []map[string]any {
		var out []map[string]any
		for _, ev := range diagDetail(t, p.stateDir(), strconv.Itoa(p.pid())).events("signal") {
			if ev["name"] == "SIGPIPE" {
				out = append(out, ev)
			}
		}
		return out
	}
	// The first marker comes from the kernel's SIGPIPEs on reset sockets.
	deadline := time.Now().Add(10 * time.Second)
	for len(pipes()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no SIGPIPE marker after hard-closing connections mid-response")
		}
		storm(100)
	}
	// Many more, from the kernel and from kill(2), within the minute.
	storm(100)
	for i := 0; i < 50; i++ {
		if err := syscall.Kill(p.pid(), syscall.SIGPIPE); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	p.mustHealthy()
	ev := pipes()
	if len(ev) != 1 {
		t.Fatalf("%d SIGPIPE markers within a minute, want exactly 1: %v", len(ev), ev)
	}
	if n, _ := ev[0]["count"].(float64); n < 1 || ev[0]["action"] != "ignored" || ev[0]["signal"] != float64(syscall.SIGPIPE) {
		t.Errorf("SIGPIPE marker: %v", ev[0])
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "running")
	// And it still stops on SIGTERM, with the SIGTERM as the verdict.
	p.signal(syscall.SIGTERM)
	if code, sig := p.wait(10 * time.Second); code != 0 || sig != 0 {
		t.Fatalf("exit = %d sig %v", code, sig)
	}
	wantVerdict(t, diagNewest(t, p.stateDir(), p.pid()), "signal", "SIGTERM")
}

func TestDiagBadConfig(t *testing.T) {
	t.Parallel()
	p := start(t, opts{config: "adr = 127.0.0.1:0\n", noWait: true})
	if code, _ := p.wait(10 * time.Second); code != 2 {
		t.Fatalf("exit = %d, want 2", code)
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "died_in_startup", "config error", `unknown key "adr"`)
	if lt.Reason != "config error" {
		t.Errorf("reason = %q", lt.Reason)
	}
}

func TestDiagPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := start(t, opts{args: []string{"--addr", ln.Addr().String()}, noWait: true})
	if code, _ := p.wait(10 * time.Second); code != 3 {
		t.Fatalf("exit = %d, want 3", code)
	}
	lt := diagNewest(t, p.stateDir(), p.pid())
	wantVerdict(t, lt, "died_before_listening", "address already in use", ln.Addr().String())
	if !hasEvidence(lt, "installed ") || hasEvidence(lt, "ready ") {
		t.Errorf("evidence: %v", lt)
	}
}

// diagnostics = off leaves no record: none written (environment or flag,
// read before the first-line marker), or the early one removed (config file,
// read after it).
func TestDiagOff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		o        opts
		earlyDir bool // firstline wrote (and Install removed) a record
	}{
		{"config file", opts{config: "diagnostics = off\n"}, true},
		{"environment", opts{env: []string{"WEBUI_DIAGNOSTICS=off"}}, false},
		{"flag", opts{args: []string{"--diagnostics", "off"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, c.o)
			p.mustHealthy()
			p.signal(syscall.SIGUSR1) // still handled, just not recorded
			time.Sleep(100 * time.Millisecond)
			p.mustHealthy()
			dir := filepath.Join(p.stateDir(), "lifetimes")
			ents, err := os.ReadDir(dir)
			if c.earlyDir && err != nil {
				t.Errorf("firstline did not run: %v", err)
			}
			if !c.earlyDir && err == nil {
				t.Errorf("firstline created %s with diagnostics off", dir)
			}
			if len(ents) != 0 {
				t.Errorf("records with diagnostics off: %v", ents)
			}
			p.signal(syscall.SIGTERM)
			if code, _ := p.wait(10 * time.Second); code != 0 {
				t.Fatalf("exit = %d", code)
			}
			if lts := diagList(t, p.stateDir()); len(lts) != 0 {
				t.Errorf("lifetimes with diagnostics off: %v", lts)
			}
			if !p.logHas("SIGUSR1: stack dump") {
				t.Errorf("SIGUSR1 stack dump not logged with diagnostics off")
			}
		})
	}
}

// Usage is not a lifetime: `webui --help` and `webui serve --help` leave
// no record.
func TestDiagHelpLeavesNoRecord(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"serve", "-h"}} {
		if code, _, stderr := runCLI(t, []string{"WEBUI_STATE_DIR=" + state}, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "lifetimes")); !os.IsNotExist(err) {
		t.Errorf("usage wrote lifetime records: %v", err)
	}
}

// startRaw starts the binary with exactly args (no harness flags) in cwd;
// dir/log/webui.log must be where it logs.
func startRaw(t *testing.T, dir, cwd string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = cwd
	cmd.Env = append(baseEnv(dir), env...)
	p := launch(t, cmd, dir, nil)
	p.addr = p.waitListening(15 * time.Second)
	return p
}

// records lists the lifetime records (regular *.jsonl files) in dir.
func records(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out
}

// recordID is the lifetime id of a file in the lifetimes dir: the name up
// to the suffix ("20261127T011325.291817Z-7392.restart-1.strace").
func recordID(name string) string {
	i := strings.Index(name, "Z-")
	if i < 0 {
		return name
	}
	if j := strings.IndexByte(name[i:], '.'); j >= 0 {
		return name[:i+j]
	}
	return name
}

// The first-line marker goes where the command line, environment or
// defaults say, before the config file is read; when the config file names
// another state_dir, the record moves there.
func TestDiagConfigStateDirMovesRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A Termux prefix makes the default state dir one inside dir, whatever
	// user runs the tests, and puts the default config file there too.
	prefix := filepath.Join(dir, "data/data/com.termux/files/usr")
	early := filepath.Join(prefix, "var/lib/webui")
	conf := filepath.Join(prefix, "etc/webui/webui.conf")
	state := filepath.Join(dir, "confstate")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("addr = 127.0.0.1:0\nstate_dir = %s\nlog_dir = %s\nrun_dir = %s\n", state, filepath.Join(dir, "log"), filepath.Join(dir, "run"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRaw(t, dir, dir, []string{"PREFIX=" + prefix}, "serve")
	p.mustHealthy()
	if m := records(t, filepath.Join(early, "lifetimes")); len(m) != 0 {
		t.Errorf("early record left behind: %v", m)
	}
	if _, err := os.Stat(filepath.Join(early, "lifetimes")); err != nil {
		t.Errorf("firstline did not write in the default state dir first: %v", err)
	}
	m := records(t, filepath.Join(state, "lifetimes"))
	if len(m) != 1 {
		t.Fatalf("records under the config's state dir: %v", m)
	}
	b, _ := os.ReadFile(m[0])
	if n := strings.Count(string(b), `"event":"first-line"`); n != 1 || !strings.Contains(string(b), `"event":"ready"`) || strings.Contains(string(b), `"late":true`) {
		t.Errorf("moved record (first-line %d times):\n%s", n, b)
	}
	wantVerdict(t, diagNewest(t, state, p.pid()), "running")
	if lts := diagList(t, early); len(lts) != 0 {
		t.Errorf("lifetimes in the early state dir: %v", lts)
	}
	p.signal(syscall.SIGTERM)
	p.wait(10 * time.Second)
	wantVerdict(t, diagNewest(t, state, p.pid()), "signal", "SIGTERM")
}

// A relative --state-dir names the same directory as the absolute one the
// config resolves it to: the record stays (it is not "moved" onto itself).
func TestDiagRelativeStateDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRaw(t, dir, dir, nil, "serve", "--addr", "127.0.0.1:0", "--state-dir", "state", "--log-dir", "log",
		"--run-dir", "run", "--config", "webui.conf")
	p.mustHealthy()
	m := records(t, filepath.Join(dir, "state", "lifetimes"))
	if len(m) != 1 {
		t.Fatalf("records: %v", m)
	}
	b, _ := os.ReadFile(m[0])
	if n := strings.Count(string(b), `"event":"first-line"`); n != 1 {
		t.Errorf("record has %d first-line markers:\n%s", n, b)
	}
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
	wantVerdict(t, diagNewest(t, filepath.Join(dir, "state"), p.pid()), "killed_untraced")
}

// appendLine appends one JSON event to a record, as a restart helper does
// (diag.AppendHelperEvent): one write(2) with O_APPEND.
func appendLine(t *testing.T, record string, ev map[string]any) {
	t.Helper()
	if _, ok := ev["t"]; !ok {
		ev["t"] = time.Now().UTC()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(record, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

func helperEvent(step string, fields map[string]any) map[string]any {
	ev := map[string]any{"event": "helper", "step": step, "helper_pid": os.Getpid()}
	for k, v := range fields {
		ev[k] = v
	}
	return ev
}

// oldForRestart runs server A to the point where it hands over to a
// delayed restart: pre-restart record, intent, SIGTERM, exit. It returns A
// and its lifetime.
func oldForRestart(t *testing.T) (*proc, lifeRec) {
	t.Helper()
	a := start(t, opts{})
	la := diagNewest(t, a.stateDir(), a.pid())
	appendLine(t, la.Record, map[string]any{"event": "pre-restart", "strategy": "delayed", "pid": a.pid(),
		"reason": "update", "helper_pid": os.Getpid(), "delay_s": 15})
	if err := os.WriteFile(filepath.Join(a.dir, "run", "webui.intent"), []byte("restart\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.signal(syscall.SIGTERM)
	if code, _ := a.wait(10 * time.Second); code != 0 {
		t.Fatalf("A exit = %d", code)
	}
	appendLine(t, la.Record, helperEvent("started", map[string]any{"old_pid": a.pid(), "delay_s": 15, "attempts": 1}))
	appendLine(t, la.Record, helperEvent("old-gone", map[string]any{"old_pid": a.pid()}))
	appendLine(t, la.Record, helperEvent("delay-done", map[string]any{"attempt": 1, "delay_s": 15}))
	return a, la
}

func checkOld(t *testing.T, lts []lifeRec, la lifeRec) {
	t.Helper()
	for _, lt := range lts {
		if lt.ID == la.ID {
			wantVerdict(t, lt, "clean_exit", "restart (SIGTERM)")
			if lt.Reason != "restart" {
				t.Errorf("A reason = %q", lt.Reason)
			}
			return
		}
	}
	t.Errorf("A's lifetime %s is gone: %v", la.ID, lts)
}

// A process killed right after the old one wrote its pre-restart record,
// as Android's cgroup kill does.
func TestDiagKilledInRestartWindow(t *testing.T) {
	t.Parallel()
	t.Run("before its first line", func(t *testing.T) {
		t.Parallel()
		a, la := oldForRestart(t)
		// B never runs webui code: it is killed in the window, before its
		// first-line marker could be written.
		b := exec.Command("sleep", "30")
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		appendLine(t, la.Record, helperEvent("spawned", map[string]any{"pid": b.Process.Pid, "attempt": 1, "strace": false}))
		_ = b.Process.Kill()
		_ = b.Wait()
		lts := diagList(t, a.stateDir())
		if len(lts) != 2 {
			t.Fatalf("lifetimes: %v", lts)
		}
		lb := lts[0]
		if lb.PID != b.Process.Pid {
			t.Fatalf("newest is pid %d, want the synthesized %d: %v", lb.PID, b.Process.Pid, lts)
		}
		wantVerdict(t, lb, "killed_in_restart_window", "before its first instruction", "never wrote its first-line marker")
		if lb.Hint == "" || lb.Record != "" || !hasEvidence(lb, "pre-restart/helper record in lifetime "+la.ID) ||
			!hasEvidence(lb, fmt.Sprintf("no first-line marker from pid %d", lb.PID)) {
			t.Errorf("synthesized lifetime: %v (hint %q)", lb, lb.Hint)
		}
		checkOld(t, lts, la)
		// diagnose --id finds it by pid too, and the text says it.
		if d := diagDetail(t, a.stateDir(), strconv.Itoa(lb.PID)); d.ID != lb.ID {
			t.Errorf("--id %d: %v", lb.PID, d)
		}
		if _, out, _ := runDiagnose(t, a.stateDir()); !strings.Contains(strings.SplitN(out, "\n", 2)[0], "killed_in_restart_window") {
			t.Errorf("diagnose:\n%s", out)
		}
	})
	t.Run("after its first line", func(t *testing.T) {
		t.Parallel()
		a, la := oldForRestart(t)
		// B is a real server started by the "helper" that gets SIGKILLed
		// during the helper's survival check.
		if err := os.Remove(filepath.Join(a.dir, "log", "webui.log")); err != nil {
			t.Fatal(err)
		}
		spawned := time.Now().UTC()
		b := start(t, opts{dir: a.dir, env: []string{"WEBUI_RESTART_OF=" + la.ID}})
		appendLine(t, la.Record, helperEvent("spawned", map[string]any{"pid": b.pid(), "attempt": 1, "strace": false, "t": spawned}))
		b.signal(syscall.SIGKILL)
		b.wait(10 * time.Second)
		appendLine(t, la.Record, helperEvent("killed", map[string]any{"pid": b.pid(), "attempt": 1, "signal": 9,
			"detail": fmt.Sprintf("pid %d killed by SIGKILL %s after it started", b.pid(), time.Since(spawned).Round(time.Millisecond))}))
		lts := diagList(t, a.stateDir())
		if len(lts) != 2 {
			t.Fatalf("lifetimes (want A and B, nothing synthesized): %v", lts)
		}
		lb := lts[0]
		if lb.PID != b.pid() || lb.Record == "" {
			t.Fatalf("newest is %v, want B's own record (pid %d)", lb, b.pid())
		}
		wantVerdict(t, lb, "killed_in_restart_window", "restart helper saw it SIGKILLed")
		if lb.RestartOf != la.ID || lb.Hint == "" || !hasEvidence(lb, "started by the restart of "+la.ID) || !hasEvidence(lb, "ready ") {
			t.Errorf("B: %v (restart_of %q, hint %q)", lb, lb.RestartOf, lb.Hint)
		}
		checkOld(t, lts, la)
	})
}

// GET /api/diag and `webui diagnose --json` tell the same story; plain
// diagnose prints it one line per lifetime, newest first.
func TestDiagAPIMatchesCLI(t *testing.T) {
	t.Parallel()
	p1 := start(t, opts{})
	p1.signal(syscall.SIGTERM)
	p1.wait(10 * time.Second)
	if err := os.Remove(filepath.Join(p1.dir, "log", "webui.log")); err != nil {
		t.Fatal(err)
	}
	p2 := start(t, opts{dir: p1.dir})
	resp, body, err := p2.get("/api/diag")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/diag: %v %v %s", resp, err, body)
	}
	var api []lifeRec
	if err := json.Unmarshal(body, &api); err != nil {
		t.Fatalf("/api/diag: %v\n%s", err, body)
	}
	cli := diagList(t, p2.stateDir())
	if len(api) != 2 || len(cli) != len(api) {
		t.Fatalf("api %v\ncli %v", api, cli)
	}
	for i := range api {
		if api[i].ID != cli[i].ID || api[i].Verdict != cli[i].Verdict || api[i].Summary != cli[i].Summary {
			t.Errorf("#%d: api %v\ncli %v", i, api[i], cli[i])
		}
	}
	if api[0].PID != p2.pid() || api[0].Verdict != "running" || api[1].PID != p1.pid() || api[1].Verdict != "signal" {
		t.Errorf("lifetimes: %v", api)
	}
	// One in detail, by pid.
	resp, body, err = p2.get("/api/diag?id=" + strconv.Itoa(p1.pid()))
	var one lifeRec
	if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &one) != nil || one.ID != api[1].ID || len(one.events("exit")) != 1 {
		t.Errorf("GET /api/diag?id=: %v %v %s", resp, err, body)
	}
	if resp, _, err := p2.get("/api/diag?id=nosuch"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /api/diag?id=nosuch: %v %v", resp, err)
	}
	code, out, _ := runDiagnose(t, p2.stateDir())
	ls := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(ls) != 2 || !strings.Contains(ls[0], fmt.Sprintf("pid %-7d", p2.pid())) || !strings.Contains(ls[0], "running") ||
		!strings.Contains(ls[1], fmt.Sprintf("pid %-7d", p1.pid())) || !strings.Contains(ls[1], "caught signal 15 (SIGTERM)") {
		t.Errorf("diagnose: exit %d\n%s", code, out)
	}
	if code, out, _ := runDiagnose(t, p2.stateDir(), "-n", "1"); code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("diagnose -n 1: exit %d\n%s", code, out)
	}
	if code, _, stderr := runDiagnose(t, p2.stateDir(), "--id", "2"); code == 0 || !strings.Contains(stderr, "matches 2 lifetimes") {
		t.Errorf("ambiguous --id: exit %d %s", code, stderr)
	}
}

// A corrupt or truncated record is reported as corrupt_record: it never
// crashes diagnose, nor a server that starts beside it.
func TestDiagCorruptRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lifetimesDir := filepath.Join(dir, "state", "lifetimes")
	if err := os.MkdirAll(filepath.Join(lifetimesDir, "20200101T000006.000000Z-107.jsonl"), 0o700); err != nil {
		t.Fatal(err) // a directory with a record's name: ignored
	}
	firstLine := `{"event":"first-line","t":"2020-01-01T00:00:01Z","pid":102,"ppid":1,"version":"0.1.0","argv":["webui"]}` + "\n"
	files := map[string]string{
		"20200101T000000.000000Z-101.jsonl": "garbage\x00\xff not json at all\n",
		"20200101T000001.000000Z-102.jsonl": firstLine + `{"event":"installed","t":"2020-01-01T00:00:01.1Z"}` + "\n" + `{"event":"ready","t":"2020-01-0`,
		"20200101T000002.000000Z-103.jsonl": "",
		"20200101T000003.000000Z-104.jsonl": "[1,2,3]\n\"a string\"\n",
		"20200101T000004.000000Z-105.crash": "panic: orphan crash file without a record\n",
		"20200101T000005.000000Z-106.jsonl": `{"event":"ready","t":"2020-01-01T00:00:05Z","addr":"127.0.0.1:1"}` + "\n",
		"20200101T000008.000000Z-108.jsonl": strings.Replace(firstLine, `"pid":102`, `"pid":108`, 1) + strings.Repeat("x", 9<<20) + "\n",
		"not-a-record":                      "x",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(lifetimesDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lts := diagList(t, filepath.Join(dir, "state"))
	want := map[int]string{101: "not valid JSON", 102: "line 3 is not valid JSON", 103: "empty record", 104: "not valid JSON",
		106: "no first-line marker", 108: "larger than"}
	if len(lts) != len(want) {
		t.Errorf("lifetimes: %v", lts)
	}
	for _, lt := range lts {
		w, ok := want[lt.PID]
		if !ok {
			t.Errorf("unexpected lifetime %v", lt)
			continue
		}
		wantVerdict(t, lt, "corrupt_record", w)
	}
	code, out, stderr := runDiagnose(t, filepath.Join(dir, "state"))
	if code != 0 || strings.Count(out, "corrupt_record") != len(want) {
		t.Errorf("diagnose: exit %d\n%s%s", code, out, stderr)
	}
	d := diagDetail(t, filepath.Join(dir, "state"), "102")
	if len(d.Events) != 3 || d.Events[2]["unparsed"] == nil {
		t.Errorf("diagnose --id 102 events: %v", d.Events)
	}

	// A server starts beside them, prunes to its caps and serves /api/diag.
	p := start(t, opts{dir: dir, config: "diag_keep = 4\ndiag_max_bytes = 65536\n"})
	p.mustHealthy()
	resp, body, err := p.get("/api/diag")
	var api []lifeRec
	if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &api) != nil || len(api) == 0 || api[0].PID != p.pid() || api[0].Verdict != "running" {
		t.Fatalf("GET /api/diag: %v %v %.500s", resp, err, body)
	}
	var total int64
	var ids []string
	ents, _ := os.ReadDir(lifetimesDir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && strings.Count(e.Name(), ".") >= 2 {
			total += fi.Size()
			ids = append(ids, e.Name())
		}
	}
	if len(ids) > 4 || total > 65536 {
		t.Errorf("after pruning: %d files, %d bytes: %v", len(ids), total, ids)
	}
	if _, err := os.Stat(filepath.Join(lifetimesDir, "not-a-record")); err != nil {
		t.Errorf("pruning removed a file that is not a record: %v", err)
	}
	if len(api) != len(records(t, lifetimesDir)) {
		t.Errorf("/api/diag lists %d lifetimes, %d records on disk", len(api), len(records(t, lifetimesDir)))
	}
	p.mustHealthy()
}

// Pruning at startup (once the server listens) keeps the newest diag_keep lifetimes (this one
// included) with all their files, and the total under diag_max_bytes.
func TestDiagPruneCaps(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, n, size int) (string, []string) {
		dir := t.TempDir()
		ld := filepath.Join(dir, "state", "lifetimes")
		if err := os.MkdirAll(ld, 0o700); err != nil {
			t.Fatal(err)
		}
		var ids []string
		base := time.Now().Add(-time.Hour).UTC()
		for i := 0; i < n; i++ {
			st := base.Add(time.Duration(i) * time.Second)
			id := st.Format("20060102T150405.000000Z") + "-" + strconv.Itoa(1000+i)
			rec := fmt.Sprintf(`{"event":"first-line","t":%q,"pid":%d}`+"\n"+`{"event":"exit","t":%q,"reason":"SIGTERM","signal":15,"code":0,"pad":%q}`+"\n",
				st.Format(time.RFC3339Nano), 1000+i, st.Add(time.Second).Format(time.RFC3339Nano), strings.Repeat("p", size))
			for name, content := range map[string]string{id + ".jsonl": rec, id + ".crash": "panic: x\n", id + ".restart-1.strace": "execve(...)\n"} {
				if err := os.WriteFile(filepath.Join(ld, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		return dir, ids
	}
	check := func(t *testing.T, dir string, p *proc, kept []string) {
		t.Helper()
		ld := filepath.Join(dir, "state", "lifetimes")
		cur := diagNewest(t, filepath.Join(dir, "state"), p.pid())
		// The server prunes once it listens, in the background.
		var byID map[string]int
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ents, _ := os.ReadDir(ld)
			byID = map[string]int{}
			for _, e := range ents {
				byID[recordID(e.Name())]++
			}
			if len(byID) == len(kept)+1 || time.Now().After(deadline) {
				break
			}
		}
		if byID[cur.ID] == 0 {
			t.Errorf("current lifetime pruned")
		}
		delete(byID, cur.ID)
		if len(byID) != len(kept) {
			t.Errorf("kept %d old lifetimes, want %d: %v", len(byID), len(kept), byID)
		}
		for _, id := range kept {
			if byID[id] != 3 {
				t.Errorf("lifetime %s kept %d of its 3 files", id, byID[id])
			}
		}
	}
	t.Run("keep", func(t *testing.T) {
		t.Parallel()
		dir, ids := seed(t, 60, 0)
		p := start(t, opts{dir: dir, config: "diag_keep = 10\n"})
		check(t, dir, p, ids[len(ids)-9:])
	})
	t.Run("max bytes", func(t *testing.T) {
		t.Parallel()
		dir, ids := seed(t, 20, 25000)
		p := start(t, opts{dir: dir, config: "diag_max_bytes = 65536\n"})
		// Each old lifetime is ~25 KB; with this one's record, two fit.
		check(t, dir, p, ids[len(ids)-2:])
	})
}
