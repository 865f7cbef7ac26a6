package integration

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The self-update tests run real webui binaries (1.0.0 and 2.0.0, built
// with -tags webuitest) against a release feed served on loopback and
// signed with a key made here, trusted through --update-keys.

// The happy path, through the API: a 1.0.0 server checks, applies, execs
// into 2.0.0 with the same pid, and the helper records the update. A
// second apply during the download gets 409; the status stream shows the
// steps.
func TestUpdateApplyExec(t *testing.T) {
	t.Parallel()
	f := newUpdFeed(t)
	updBinaries(t)
	f.publish(t, "2.0.0", updV2Bytes, nil, nil)
	f.slow["/webui-linux-amd64"] = 1500 * time.Millisecond
	p, bin := updServer(t, f, opts{})
	_, h0 := p.health(false)

	resp, body, err := p.get("/api/updates/check")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("check: %v %s", err, body)
	}
	var chk struct {
		Current, Latest, Notes, Target string
		Available                      bool
		Error                          string
	}
	json.Unmarshal(body, &chk)
	if !chk.Available || chk.Current != "1.0.0" || chk.Latest != "2.0.0" || chk.Target != "linux-amd64" || !strings.Contains(chk.Notes, "better") || chk.Error != "" {
		t.Fatalf("check: %s", body)
	}

	// The console's view: server-sent events until the restart.
	var events []updStatus
	streamDone := make(chan struct{})
	req, _ := http.NewRequest("GET", p.url("/api/updates/status?stream=1"), nil)
	sresp, err := ownerClient(60 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := sresp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	go func() {
		defer close(streamDone)
		defer sresp.Body.Close()
		sc := bufio.NewScanner(sresp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var st updStatus
				json.Unmarshal([]byte(data), &st)
				events = append(events, st)
			}
		}
	}()

	begin := time.Now()
	if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusAccepted || !strings.Contains(b, `"to": "2.0.0"`) {
		t.Fatalf("apply: %d %s", code, b)
	}
	if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusConflict || !strings.Contains(b, "already in progress") {
		t.Errorf("second apply during the first: %d %s", code, b)
	}
	h := waitHealth(t, p.addr, 30*time.Second, func(h health) bool { return h.Version == "2.0.0" })
	if h.PID != h0.PID {
		t.Errorf("pid %d after the exec restart, want %d", h.PID, h0.PID)
	}
	st := updWaitState(t, p.addr, 30*time.Second, "done", "failed", "rolled_back")
	t.Logf("update 1.0.0 → 2.0.0: apply to confirmed in %s", time.Since(begin).Round(time.Millisecond))
	if st.State != "done" || !strings.Contains(st.Message, "updated 1.0.0 → 2.0.0") {
		t.Fatalf("status %+v", st)
	}
	select {
	case <-streamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the status stream did not end at the restart")
	}
	var states []string
	sawProgress := false
	for _, e := range events {
		if len(states) == 0 || states[len(states)-1] != e.State {
			states = append(states, e.State)
		}
		sawProgress = sawProgress || (e.State == "downloading" && e.Progress.Bytes > 0 && e.Progress.Bytes < e.Progress.Total)
	}
	// The stream ends as the server drains for the restart: its last
	// word is "restarting", or "confirming" when the helper was quicker.
	if got := strings.Join(states, ","); !strings.Contains(got, "downloading") || !(strings.HasSuffix(got, "restarting") || strings.HasSuffix(got, "confirming")) || !sawProgress {
		t.Errorf("stream states %s (progress seen %v)", got, sawProgress)
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV2Bytes) {
		t.Error("the binary on disk is not 2.0.0")
	}
	if b, _ := os.ReadFile(bin + ".prev"); !bytes.Equal(b, updV1Bytes) {
		t.Error(".prev is not 1.0.0")
	}
	state := filepath.Join(p.dir, "state")
	if steps := updSteps(state); !strings.Contains(steps, "started,installed,restarting") || !strings.Contains(steps, "confirming,updated") {
		t.Errorf("update events: %s", steps)
	}
	if _, err := os.Stat(filepath.Join(state, "updates", "pending.json")); !os.IsNotExist(err) {
		t.Error("pending.json left after the confirmation")
	}
	// The exec'd image is the confirmation helper's parent now: it reaps
	// it, so no zombie is left behind.
	deadline := time.Now().Add(10 * time.Second)
	for len(zombieChildren(h.PID)) > 0 || len(liveChildren(h.PID)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("children of the server after the update: zombies %v, running %v", zombieChildren(h.PID), liveChildren(h.PID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Once confirmed, the lock is free: an apply now finds nothing newer.
	if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusConflict || !strings.Contains(b, "already up to date") {
		t.Errorf("apply after the update: %d %s", code, b)
	}
}

// A bad release is refused and nothing changes: the binary, byte for
// byte, no .prev, the same 1.0.0 server.
func TestUpdateRejected(t *testing.T) {
	t.Parallel()
	updBinaries(t)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name  string
		setup func(t *testing.T, f *updFeed)
		body  string
		code  int    // the POST's answer
		want  string // in the POST's answer (code != 202) or the final status
	}{
		{"tampered artifact", func(t *testing.T, f *updFeed) {
			f.publish(t, "2.0.0", updV2Bytes, nil, nil)
			evil := bytes.Clone(updV2Bytes)
			evil[len(evil)/2] ^= 1
			os.WriteFile(filepath.Join(f.dir, "webui-linux-amd64"), evil, 0o644)
		}, `{}`, 202, "sha256 mismatch"},
		{"bad signature", func(t *testing.T, f *updFeed) {
			f.publish(t, "2.0.0", updV2Bytes, nil, nil)
			os.WriteFile(filepath.Join(f.dir, "manifest.json.sig"), []byte(base64.StdEncoding.EncodeToString(make([]byte, 64))), 0o644)
		}, `{}`, 502, "does not match any of the 1 trusted release keys"},
		{"unknown key", func(t *testing.T, f *updFeed) { f.publish(t, "2.0.0", updV2Bytes, otherKey, nil) }, `{}`, 502, "does not match any"},
		{"truncated download", func(t *testing.T, f *updFeed) {
			f.publish(t, "2.0.0", updV2Bytes, nil, nil)
			f.hook["/webui-linux-amd64"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(updV2Bytes)))
				w.Write(updV2Bytes[:len(updV2Bytes)/3])
			}
		}, `{}`, 202, "truncated download"},
		{"downgrade", func(t *testing.T, f *updFeed) { f.publish(t, "0.9.0", updV2Bytes, nil, nil) }, `{}`, 409, "refusing to downgrade from 1.0.0 to 0.9.0"},
		{"feed answers 500", func(t *testing.T, f *updFeed) {
			f.hook["/manifest.json"] = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }
		}, `{}`, 502, "500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newUpdFeed(t)
			tt.setup(t, f)
			p, bin := updServer(t, f, opts{})
			code, b := updPost(t, p.addr, "/api/updates/apply", tt.body)
			if code != tt.code {
				t.Fatalf("apply: %d %s, want %d", code, b, tt.code)
			}
			if code != 202 && !strings.Contains(b, tt.want) {
				t.Fatalf("apply: %s, want %q", b, tt.want)
			}
			st := updWaitState(t, p.addr, 30*time.Second, "failed", "done", "rolled_back")
			if st.State != "failed" || !strings.Contains(st.Message, tt.want) {
				t.Errorf("status %+v, want failed with %q", st, tt.want)
			}
			updUnchanged(t, p, bin)
			if ev := updSteps(filepath.Join(p.dir, "state")); !strings.Contains(ev, "failed") && !strings.Contains(ev, "refused") {
				t.Errorf("no failure recorded for diagnose: %q", ev)
			}
		})
	}
}

// A feed that fails or hangs: `webui update check` says so clearly, within
// its timeout, without a server.
func TestUpdateCheckFeedErrors(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/500/manifest.json" {
			http.Error(w, "down", 500)
			return
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	code, _, stderr := runCLI(t, nil, "update", "check", "--update-url", srv.URL+"/500/manifest.json", "--update-keys", key)
	if code != 1 || !strings.Contains(stderr, "500 Internal Server Error") {
		t.Errorf("500: exit %d: %s", code, stderr)
	}
	begin := time.Now()
	code, _, stderr = runCLI(t, nil, "update", "check", "--timeout", "1s", "--update-url", srv.URL+"/hang/manifest.json", "--update-keys", key)
	took := time.Since(begin)
	if code != 1 || !strings.Contains(stderr, "no complete answer within 1s") || took > 5*time.Second {
		t.Errorf("hang: exit %d after %s: %s", code, took, stderr)
	}
	code, out, _ := runCLI(t, nil, "update", "check", "--json", "--update-url", srv.URL+"/500/manifest.json", "--update-keys", key)
	if code != 1 || !strings.Contains(out, `"error": "fetch the release manifest`) {
		t.Errorf("--json: exit %d: %s", code, out)
	}
}

// A new version that cannot start: applied from the CLI against a running
// server (SIGUSR2), the exec runs a 2.0.0 "binary" that exits at once. The
// confirmation helper restores .prev and starts 1.0.0 again; the status
// says rolled_back and why, and diagnose shows it.
func TestUpdateRollback(t *testing.T) {
	t.Parallel()
	f := newUpdFeed(t)
	f.publish(t, "2.0.0", []byte("#!/bin/sh\nexit 1\n"), nil, nil)
	p, bin := updServer(t, f, opts{})
	oldPID := p.pid()
	cli := exec.Command(bin, "update", "apply", "--yes", "--addr", p.addr,
		"--state-dir", filepath.Join(p.dir, "state"), "--log-dir", filepath.Join(p.dir, "log"), "--run-dir", filepath.Join(p.dir, "run"),
		"--config", filepath.Join(p.dir, "webui.conf"), "--update-url", f.url(), "--update-keys", f.pub)
	cli.Env = baseEnv(p.dir)
	var out, errOut bytes.Buffer
	cli.Stdout, cli.Stderr = &out, &errOut
	begin := time.Now()
	err := cli.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("update apply: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	t.Logf("apply to rolled back: %s\n%s", time.Since(begin).Round(time.Millisecond), out.String())
	if !strings.Contains(out.String(), "updating webui 1.0.0 → 2.0.0 (swap)") || !strings.Contains(out.String(), "rolled_back: update to 2.0.0 failed") {
		t.Errorf("output:\n%s", out.String())
	}
	if p.alive() {
		t.Fatal("the server did not go through the restart")
	}
	h := waitHealth(t, p.addr, 10*time.Second, func(h health) bool { return h.Version == "1.0.0" })
	if h.PID == oldPID {
		t.Errorf("1.0.0 answers with the old pid %d: was it restarted?", h.PID)
	}
	st := updWaitState(t, p.addr, 5*time.Second, "rolled_back", "failed", "done")
	if st.State != "rolled_back" || !strings.Contains(st.Message, "exited after the exec restart into 2.0.0") || !strings.Contains(st.Message, "rolled back to 1.0.0") {
		t.Errorf("status %+v", st)
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV1Bytes) {
		t.Error("the binary is not 1.0.0 again")
	}
	// diagnose shows the update events in the updated lifetime's record.
	recs, _ := filepath.Glob(filepath.Join(p.dir, "state", "lifetimes", fmt.Sprintf("*-%d.jsonl", oldPID)))
	if len(recs) != 1 {
		t.Fatalf("records of pid %d: %v", oldPID, recs)
	}
	id := strings.TrimSuffix(filepath.Base(recs[0]), ".jsonl")
	code, detail, stderr := runCLI(t, nil, "diagnose", "--id", id, "--state-dir", filepath.Join(p.dir, "state"))
	if code != 0 || !strings.Contains(detail, `"step":"rolling-back"`) || !strings.Contains(detail, `"step":"rolled-back"`) || !strings.Contains(detail, "exited after the exec restart") {
		t.Errorf("diagnose --id %s: %d %s\n%s", id, code, stderr, detail)
	}
	code, sout, _ := runCLI(t, nil, "update", "status", "--state-dir", filepath.Join(p.dir, "state"))
	if code != 0 || !strings.HasPrefix(sout, "rolled_back: update to 2.0.0 failed") {
		t.Errorf("update status: %d %s", code, sout)
	}
	stopPID(t, h.PID)
}

// SIGKILL at each step of an apply: the binary is whole, 1.0.0 or 2.0.0,
// never broken; the next server settles the status and cleans up.
func TestUpdateKilledMidway(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ step, want string }{
		{"download", "1.0.0"}, {"verify", "1.0.0"}, {"install", "1.0.0"}, {"restart", "2.0.0"},
	} {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			f := newUpdFeed(t)
			updBinaries(t)
			f.publish(t, "2.0.0", updV2Bytes, nil, nil)
			mark := filepath.Join(t.TempDir(), "paused")
			p, bin := updServer(t, f, opts{env: []string{"WEBUI_TEST_UPDATE_PAUSE=" + tt.step, "WEBUI_TEST_UPDATE_PAUSE_MARK=" + mark}})
			if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != 202 {
				t.Fatalf("apply: %d %s", code, b)
			}
			waitFor(t, 30*time.Second, "the pause at "+tt.step, func() bool { _, err := os.Stat(mark); return err == nil })
			p.signal(syscall.SIGKILL)
			p.wait(5 * time.Second)

			out, err := exec.Command(bin, "version").Output()
			if err != nil || !strings.HasPrefix(string(out), "webui "+tt.want+" ") {
				t.Fatalf("after SIGKILL at %s: `webui version`: %q %v, want %s", tt.step, out, err, tt.want)
			}
			// The next start: whatever version is on disk serves, and the
			// interrupted update is settled. (The log already names the
			// address: wait for the new server to answer there.)
			q := start(t, opts{dir: p.dir, bin: bin, args: []string{"--addr", p.addr, "--update-url", f.url(), "--update-keys", f.pub, "--update-interval", "0"}})
			if h := waitHealth(t, q.addr, 10*time.Second, func(health) bool { return true }); h.Version != tt.want {
				t.Errorf("restarted server runs %s, want %s", h.Version, tt.want)
			}
			st := updWaitState(t, q.addr, 5*time.Second, "failed", "done")
			want := "interrupted while"
			if tt.step == "restart" {
				want = "updated 1.0.0 → 2.0.0 (confirmed by the new server"
			}
			if !strings.Contains(st.Message, want) {
				t.Errorf("status %+v, want %q", st, want)
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(bin), ".webui-update-*")); len(m) > 0 {
				t.Errorf("temp files left beside the binary: %v", m)
			}
			if _, err := os.Stat(filepath.Join(p.dir, "state", "updates", "staging")); !os.IsNotExist(err) {
				t.Error("staging left")
			}
		})
	}
}

// The state dir on a 2 MiB tmpfs: the update is refused before the
// download with the directory and the numbers, and nothing changes.
func TestUpdateDiskFull(t *testing.T) {
	t.Parallel()
	f := newUpdFeed(t)
	updBinaries(t)
	f.publish(t, "2.0.0", updV2Bytes, nil, nil)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", state).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs: %v %s (CI=true: this test must run)", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", state).Run() })
	p, bin := updServer(t, f, opts{dir: dir})
	code, b := updPost(t, p.addr, "/api/updates/apply", `{}`)
	if code != http.StatusInsufficientStorage || !strings.Contains(b, "not enough free space in "+filepath.Join(state, "updates")) ||
		!strings.Contains(b, "MiB is free") || !strings.Contains(b, "2 × the") {
		t.Fatalf("apply on a full disk: %d %s", code, b)
	}
	updUnchanged(t, p, bin)
}

// The CLI without a server: a downgrade is refused unless allowed, and
// the offline path takes a local manifest with its signature.
func TestUpdateCLIDowngradeAndOffline(t *testing.T) {
	t.Parallel()
	f := newUpdFeed(t)
	updBinaries(t)
	f.publish(t, "0.9.0", []byte("pretend 0.9.0 binary"), nil, nil)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "webui")
	updInstallV1(t, bin)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append(args, "--state-dir", filepath.Join(dir, "state"), "--log-dir", filepath.Join(dir, "log"),
			"--run-dir", filepath.Join(dir, "run"), "--config", filepath.Join(dir, "none.conf"), "--update-keys", f.pub)...)
		cmd.Env = baseEnv(dir)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	os.WriteFile(filepath.Join(dir, "none.conf"), []byte("# empty\n"), 0o600)
	if code, out := run("update", "apply", "--update-url", f.url()); code != 2 || !strings.Contains(out, "pass --yes") {
		t.Errorf("without a terminal or --yes: %d %s", code, out)
	}
	if code, out := run("update", "apply", "--yes", "--update-url", f.url()); code != 1 || !strings.Contains(out, "refusing to downgrade from 1.0.0 to 0.9.0") {
		t.Errorf("downgrade: %d %s", code, out)
	}
	if b, _ := os.ReadFile(bin); !bytes.Equal(b, updV1Bytes) {
		t.Fatal("the refused downgrade changed the binary")
	}
	// Offline: the feed's directory, as copied to the phone.
	code, out := run("update", "apply", "--yes", "--allow-downgrade", "--from", filepath.Join(f.dir, "manifest.json"), "--update-url", "https://unreachable.invalid/manifest.json")
	if code != 0 || !strings.Contains(out, "updated 1.0.0 → 0.9.0; no server was running") {
		t.Errorf("offline downgrade: %d %s", code, out)
	}
	if b, _ := os.ReadFile(bin); string(b) != "pretend 0.9.0 binary" {
		t.Errorf("binary after the offline update: %q", b)
	}
}

// An open stream holds an update back (it would be cut by the restart)
// unless the request says force; the console's own status stream does not.
func TestUpdateRefusedWhileStreaming(t *testing.T) {
	t.Parallel()
	f := newUpdFeed(t)
	updBinaries(t)
	// A tampered artifact: once forced, the apply fails verification and
	// nothing restarts.
	f.publish(t, "2.0.0", updV2Bytes, nil, nil)
	os.WriteFile(filepath.Join(f.dir, "webui-linux-amd64"), bytes.Repeat([]byte{1}, len(updV2Bytes)), 0o644)
	p, bin := updServer(t, f, opts{})
	status, err := ownerClient(0).Get(p.url("/api/updates/status?stream=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer status.Body.Close()
	req, _ := http.NewRequest("GET", p.url("/_test/slow?d=20s"), nil)
	req.Header.Set("Accept", "text/event-stream")
	stream, err := ownerClient(0).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	code, b := updPost(t, p.addr, "/api/updates/apply", `{}`)
	if code != http.StatusConflict || !strings.Contains(b, "1 streaming requests are open") || !strings.Contains(b, `{\"force\":true}`) {
		t.Fatalf("apply during a stream: %d %s", code, b)
	}
	if code, b := updPost(t, p.addr, "/api/updates/apply", `{"force":true}`); code != http.StatusAccepted {
		t.Fatalf("forced apply: %d %s", code, b)
	}
	if st := updWaitState(t, p.addr, 30*time.Second, "failed", "done"); !strings.Contains(st.Message, "sha256 mismatch") {
		t.Errorf("status %+v", st)
	}
	updUnchanged(t, p, bin)
}
