package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// delayedArgs put the server on the delayed restart strategy (a detached
// helper starts the next process after restart_delay) with short windows.
var delayedArgs = []string{"--restart-mode", "delayed", "--restart-delay", "1s", "--restart-survive", "1s"}

// An update under the delayed strategy, against the strict kill window
// (W = 3 s): the new version comes up as a new process started by the
// restart helper after starts killed in the window, and the confirmation
// helper, exec'd before the restart like the restart helper, survives to
// confirm it. A new version that cannot start is rolled back and the old
// one serves again.
func TestUpdateDelayedStrategy(t *testing.T) {
	t.Parallel()
	t.Run("happy path", func(t *testing.T) {
		t.Parallel()
		f := newUpdFeed(t)
		updBinaries(t)
		f.publish(t, "2.0.0", updV2Bytes, nil, nil)
		dir := t.TempDir()
		bin := filepath.Join(dir, "bin", "webui")
		updInstallV1(t, bin)
		klog := startKillWindow(t, bin, 3*time.Second, bin+".prev")
		// Survive outlasts W: a start the window kills is dead before the
		// helper and the confirmer could take it for the new server.
		args := append(append([]string{}, delayedArgs...), "--restart-survive", "4s")
		p, _ := updServer(t, f, opts{args: args, dir: dir})
		_, h0 := p.health(false)
		if h0.Restart["strategy"] != "delayed" || h0.Version != "1.0.0" {
			t.Fatalf("before the update: version %s, restart %v", h0.Version, h0.Restart)
		}
		begin := time.Now()
		if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusAccepted || !strings.Contains(b, `"to": "2.0.0"`) {
			t.Fatalf("apply: %d %s", code, b)
		}
		// The status answers from whichever server listens; the pid that
		// counts is the one serving once the update is confirmed.
		st := updWaitState(t, p.addr, 40*time.Second, "done", "failed", "rolled_back")
		h := waitHealth(t, p.addr, 30*time.Second, func(h health) bool { return h.Version == "2.0.0" })
		t.Cleanup(func() { stopPID(t, h.PID) })
		if h.PID == h0.PID {
			t.Errorf("2.0.0 answers with the old pid %d: the delayed strategy starts a new process", h.PID)
		}
		if code, _ := p.wait(10 * time.Second); code != 0 {
			t.Errorf("the 1.0.0 server exited with %d for the delayed restart", code)
		}
		t.Logf("delayed update 1.0.0 → 2.0.0: apply to confirmed in %s (new pid %d)", time.Since(begin).Round(time.Millisecond), h.PID)
		if st.State != "done" || !strings.Contains(st.Message, "updated 1.0.0 → 2.0.0") {
			t.Fatalf("status %+v", st)
		}
		if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV2Bytes) {
			t.Error("the binary on disk is not 2.0.0")
		}
		state := filepath.Join(p.dir, "state")
		if steps := updSteps(state); !strings.Contains(steps, "started,installed,restarting") || !strings.Contains(steps, "confirming,updated") {
			t.Errorf("update events: %s", steps)
		}
		if steps := strings.Join(helperSteps(t, state), ","); !strings.Contains(steps, "started,old-gone,delay-done,spawned") {
			t.Errorf("restart helper steps: %s", steps)
		}
		if _, err := os.Stat(filepath.Join(state, "updates", "pending.json")); !os.IsNotExist(err) {
			t.Error("pending.json left after the confirmation")
		}
		// The new server is the one holding the pid file, and it is still
		// 2.0.0 after the survival check.
		if pid := ctlHolder(filepath.Join(p.dir, "run", "webui.pid")); pid != h.PID {
			t.Errorf("pid file holder %d, want %d", pid, h.PID)
		}
		waitHealth(t, p.addr, 5*time.Second, func(x health) bool { return x.PID == h.PID && x.Version == "2.0.0" })
		t.Logf("starts killed in the window: %d", killsDiagnosed(t, klog, state))
		oneListener(t, p.addr, h.PID)
		stopPID(t, h.PID)
		if syscall.Kill(h.PID, 0) == nil {
			t.Errorf("2.0.0 (pid %d) still running after SIGTERM", h.PID)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		t.Parallel()
		f := newUpdFeed(t)
		f.publish(t, "2.0.0", []byte("#!/bin/sh\nexit 1\n"), nil, nil)
		p, bin := updServer(t, f, opts{args: delayedArgs})
		_, h0 := p.health(false)
		if h0.Restart["strategy"] != "delayed" {
			t.Fatalf("strategy %v", h0.Restart)
		}
		begin := time.Now()
		if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusAccepted {
			t.Fatalf("apply: %d %s", code, b)
		}
		if code, _ := p.wait(30 * time.Second); code != 0 {
			t.Errorf("the 1.0.0 server exited with %d for the delayed restart", code)
		}
		// The confirmation helper gives up at its deadline
		// (ConfirmTimeout + restart_delay + restart_survive), then rolls back.
		h := waitHealth(t, p.addr, 120*time.Second, func(h health) bool { return h.Version == "1.0.0" })
		t.Cleanup(func() { stopPID(t, h.PID) })
		st := updWaitState(t, p.addr, 30*time.Second, "rolled_back", "failed", "done")
		t.Logf("delayed update to a broken 2.0.0: apply to rolled back in %s: %s", time.Since(begin).Round(time.Millisecond), st.Message)
		if h.PID == h0.PID {
			t.Errorf("1.0.0 answers with the old pid %d: was it restarted?", h.PID)
		}
		if st.State != "rolled_back" || !strings.Contains(st.Message, "update to 2.0.0 failed: ") || !strings.Contains(st.Message, "rolled back to 1.0.0") {
			t.Errorf("status %+v", st)
		}
		if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV1Bytes) {
			t.Error("the binary is not 1.0.0 again")
		}
		state := filepath.Join(p.dir, "state")
		t.Logf("restart helper steps: %q; update events: %s", helperSteps(t, state), updSteps(state))
		if steps := updSteps(state); !strings.Contains(steps, "rolling-back") || !strings.Contains(steps, "rolled-back") {
			t.Errorf("update events: %s", steps)
		}
		if _, err := os.Stat(filepath.Join(state, "updates", "pending.json")); !os.IsNotExist(err) {
			t.Error("pending.json left after the rollback")
		}
		// Nothing runs 2.0.0: the pid file names the 1.0.0 server, which
		// still answers as 1.0.0 a moment later.
		if pid := ctlHolder(filepath.Join(p.dir, "run", "webui.pid")); pid != h.PID {
			t.Errorf("pid file holder %d, want the 1.0.0 server %d", pid, h.PID)
		}
		time.Sleep(500 * time.Millisecond)
		waitHealth(t, p.addr, 5*time.Second, func(x health) bool { return x.PID == h.PID && x.Version == "1.0.0" })
		stopPID(t, h.PID)
	})
}
