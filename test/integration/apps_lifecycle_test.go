package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

// appLoad loops GETs of the app through webui until stopped, counting
// failures (an error or a status other than 200).
type appLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ok     atomic.Int64
	failed atomic.Int64
	first  atomic.Value
}

func startAppLoad(t *testing.T, url string) *appLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &appLoad{cancel: cancel}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		c := ownerClient(10 * time.Second)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := c.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			switch {
			case err != nil && ctx.Err() != nil:
				return // stopped mid-request: not a failure
			case err != nil:
				l.failed.Add(1)
				l.first.CompareAndSwap(nil, err.Error())
			default:
				l.ok.Add(1)
			}
		}
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *appLoad) stop() { l.cancel(); l.wg.Wait() }

// check stops the load and fails on any failed request, or on none sent.
func (l *appLoad) check(t *testing.T, what string) {
	t.Helper()
	l.stop()
	t.Logf("%s: requests to the app ok %d, failed %d", what, l.ok.Load(), l.failed.Load())
	if l.failed.Load() > 0 || l.ok.Load() == 0 {
		t.Errorf("%s: %d requests to the app failed (first: %v), %d ok", what, l.failed.Load(), l.first.Load(), l.ok.Load())
	}
}

// Three exec restarts of webui: the app keeps its pid and a client that
// loops requests to it through webui sees none fail.
func TestAppsSurviveExecRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appsDir(t, dir, map[string]string{"notes": appCmd(t) + "health = /healthz\n"})
	p := start(t, opts{dir: dir, args: []string{"--addr", freeAddr(t), "--restart-mode", "exec", "--access-log", "off"}})
	st0 := waitApp(t, p.addr, "notes", 15*time.Second, appRunning)
	_, h0 := p.health(false)
	load := startAppLoad(t, p.url("/notes/headers"))
	prev := h0
	for i := 1; i <= 3; i++ {
		postRestart(t, p.addr)
		h := waitHealth(t, p.addr, 10*time.Second, func(h health) bool { return !h.StartedAt.Equal(prev.StartedAt) })
		if h.PID != h0.PID {
			t.Fatalf("restart %d: webui pid %d, want %d (exec)", i, h.PID, h0.PID)
		}
		prev = h
		time.Sleep(100 * time.Millisecond) // requests through the new image
	}
	load.check(t, "3 exec restarts")
	st := waitApp(t, p.addr, "notes", 5*time.Second, appRunning)
	if st.PID != st0.PID || st.Restarts != st0.Restarts {
		t.Errorf("after 3 exec restarts the app is %+v, was %+v", st, st0)
	}
}

// A delayed restart (a new webui process) and an update adopt the running
// app: same pid, no restart.
func TestAppsSurviveDelayedRestartAndUpdate(t *testing.T) {
	t.Parallel()
	t.Run("delayed restart", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		appsDir(t, dir, map[string]string{"notes": appCmd(t)})
		addr := freeAddr(t)
		p := start(t, opts{dir: dir, args: append([]string{"--addr", addr}, delayedArgs...)})
		st0 := waitApp(t, addr, "notes", 15*time.Second, appRunning)
		_, h0 := p.health(false)
		if h0.Restart["strategy"] != "delayed" {
			t.Fatalf("strategy %v", h0.Restart)
		}
		postRestart(t, addr)
		h := waitHealth(t, addr, 20*time.Second, func(h health) bool { return h.PID != h0.PID })
		t.Cleanup(func() { harness.StopPID(h.PID, 5*time.Second) })
		st := waitApp(t, addr, "notes", 5*time.Second, appRunning)
		if st.PID != st0.PID || st.Restarts != st0.Restarts {
			t.Errorf("after the delayed restart the app is %+v, was %+v", st, st0)
		}
		if code, body := getBody(t, ownerClient(10*time.Second), "http://"+addr+"/notes/"); code != 200 || !strings.Contains(body, fmt.Sprintf("pid=%d", st0.PID)) {
			t.Errorf("the app through the new webui: %d %q", code, body)
		}
	})
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		f := newUpdFeed(t)
		updBinaries(t)
		f.publish(t, "2.0.0", updV2Bytes, nil, nil)
		dir := t.TempDir()
		appsDir(t, dir, map[string]string{"notes": appCmd(t)})
		p, _ := updServer(t, f, opts{dir: dir})
		st0 := waitApp(t, p.addr, "notes", 15*time.Second, appRunning)
		load := startAppLoad(t, p.url("/notes/headers"))
		if code, b := updPost(t, p.addr, "/api/updates/apply", `{}`); code != http.StatusAccepted {
			t.Fatalf("apply: %d %s", code, b)
		}
		waitHealth(t, p.addr, 30*time.Second, func(h health) bool { return h.Version == "2.0.0" })
		if st := updWaitState(t, p.addr, 30*time.Second, "done", "failed", "rolled_back"); st.State != "done" {
			t.Fatalf("update status %+v", st)
		}
		load.check(t, "update 1.0.0 → 2.0.0")
		st := waitApp(t, p.addr, "notes", 5*time.Second, appRunning)
		if st.PID != st0.PID || st.Restarts != st0.Restarts {
			t.Errorf("after the update the app is %+v, was %+v", st, st0)
		}
	})
}

// `webui ctl stop` stops the apps; a bare SIGTERM leaves them running and
// the next `webui serve` adopts them.
func TestAppsStopAndAdopt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appsDir(t, dir, map[string]string{"notes": appCmd(t)})
	addr := freeAddr(t)
	args := []string{"--addr", addr}
	p := start(t, opts{dir: dir, args: args})
	st0 := waitApp(t, addr, "notes", 15*time.Second, appRunning)

	p.signal(syscall.SIGTERM)
	p.wait(15 * time.Second)
	if !harness.PIDAlive(st0.PID) || gone(st0.PID) {
		t.Fatalf("a bare SIGTERM of webui ended the app (pid %d)", st0.PID)
	}
	p2 := start(t, opts{dir: dir, args: args})
	waitHealth(t, addr, 15*time.Second, func(h health) bool { return h.PID == p2.pid() }) // the log still names the old listener
	st := waitApp(t, addr, "notes", 15*time.Second, appRunning)
	if st.PID != st0.PID || st.Restarts != st0.Restarts {
		t.Errorf("the next webui did not adopt the app: %+v, was %+v", st, st0)
	}

	cmd := exec.Command(binary, append([]string{"ctl", "stop"}, harness.Dir(dir).Settings(addr)...)...)
	cmd.Env = baseEnv(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("webui ctl stop: %v\n%s", err, out)
	}
	p2.wait(15 * time.Second)
	waitFor(t, 10*time.Second, "the app to stop with webui ctl stop", func() bool { return gone(st0.PID) })
}
