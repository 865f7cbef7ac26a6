package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
