package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

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
