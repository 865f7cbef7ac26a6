package restart

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// gonePID is the pid of a process that has exited and been reaped.
func gonePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := cmd.Run(); err != nil {
		t.Skipf("no /bin/sh to make a gone pid: %v", err)
	}
	return cmd.Process.Pid
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// helperRun runs RunHelper against the test binary playing the server
// (fakeServer doing do) and returns its error and the steps it recorded.
func helperRun(t *testing.T, do string, edit func(*HelperOptions)) ([]string, []map[string]any, error) {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(record, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	o := HelperOptions{
		Record:   record,
		OldPID:   gonePID(t),
		Schedule: schedule.Schedule{Delay: 0, Survive: 200 * time.Millisecond, Attempts: 2, Cap: time.Second},
		Health:   mustAddr(t, addr),
		Argv:     []string{testExe(t)},
		Env:      []string{envRole + "=server", envServer + "=" + do, envAddr + "=" + addr},
		RunDir:   dir,
	}
	if edit != nil {
		edit(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := RunHelper(ctx, o)
	evs := events(t, record)
	var steps []string
	for _, e := range evs {
		if e["by"] != schedule.ByHelper {
			t.Errorf("event %v not signed by the helper", e)
		}
		steps = append(steps, e["step"].(string))
		if e["step"] == "spawned" {
			pid := int(e["pid"].(float64))
			t.Cleanup(func() { // a server that survived outlives RunHelper
				_ = syscall.Kill(pid, syscall.SIGKILL)
				wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, _ = proc.Wait(wctx, pid)
			})
		}
	}
	return steps, evs, err
}

// The helper's verdict on each way the started server can end.
func TestRunHelperOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		do      string
		wantErr string // "" = nil
		steps   []string
	}{
		{"survives", "healthy", "",
			[]string{"started", "old-gone", "delay-done", "spawned", "survived"}},
		{"bad config: no retry", "exit:2", "exited with code 2",
			[]string{"started", "old-gone", "delay-done", "spawned", "gave-up"}},
		{"port in use: no retry", "exit:3", "exited with code 3",
			[]string{"started", "old-gone", "delay-done", "spawned", "gave-up"}},
		{"stopped by someone", "exit:0", ErrStopped.Error(),
			[]string{"started", "old-gone", "delay-done", "spawned", "gave-up"}},
		{"killed every time", "kill", "restart failed after 2 attempts",
			[]string{"started", "old-gone", "delay-done", "spawned", "killed", "retrying", "delay-done", "spawned", "killed", "gave-up"}},
		{"fails every time", "exit:1", "restart failed after 2 attempts",
			[]string{"started", "old-gone", "delay-done", "spawned", "failed", "retrying", "delay-done", "spawned", "failed", "gave-up"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var runDir string
			steps, evs, err := helperRun(t, c.do, func(o *HelperOptions) {
				runDir = o.RunDir
				if err := schedule.WriteIntent(o.RunDir, schedule.Intent{PID: o.OldPID, By: schedule.ByHelper}); err != nil {
					t.Fatal(err)
				}
			})
			if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("RunHelper = %v, want %q", err, c.wantErr)
			}
			if !slices.Equal(steps, c.steps) {
				t.Errorf("steps\n %v\nwant\n %v", steps, c.steps)
			}
			if _, ok := schedule.ReadIntent(runDir); ok {
				t.Error("the intent outlived a finished restart")
			}
			if c.do == "kill" {
				for _, e := range evs {
					if e["step"] == "killed" && e["signal"] != float64(syscall.SIGKILL) {
						t.Errorf("killed event %v", e)
					}
				}
			}
		})
	}
}

// `ctl stop` after the restart was asked for: nothing is started.
func TestRunHelperStopped(t *testing.T) {
	steps, _, err := helperRun(t, "healthy", func(o *HelperOptions) {
		o.StoppedFile = filepath.Join(o.RunDir, "stopped")
		o.Since = time.Now().Add(-time.Minute)
		if err := os.WriteFile(o.StoppedFile, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if !errors.Is(err, ErrStopped) || slices.Contains(steps, "spawned") {
		t.Fatalf("RunHelper = %v, steps %v; want ErrStopped and no server", err, steps)
	}
	// A marker older than the restart request is an earlier stop's.
	steps, _, err = helperRun(t, "healthy", func(o *HelperOptions) {
		o.StoppedFile = filepath.Join(o.RunDir, "stopped")
		if err := os.WriteFile(o.StoppedFile, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(o.StoppedFile, old, old); err != nil {
			t.Fatal(err)
		}
		o.Since = time.Now()
	})
	if err != nil || !slices.Contains(steps, "survived") {
		t.Fatalf("with an old marker: RunHelper = %v, steps %v", err, steps)
	}
}

// One starter at a time, and none while the old server still runs.
func TestRunHelperRefuses(t *testing.T) {
	t.Run("another starter holds the lock", func(t *testing.T) {
		var l *schedule.Lock
		steps, _, err := helperRun(t, "healthy", func(o *HelperOptions) {
			var err error
			if l, err = schedule.TryLock(o.RunDir); err != nil {
				t.Fatal(err)
			}
		})
		defer l.Release()
		if !errors.Is(err, schedule.ErrBusy) || !slices.Equal(steps, []string{"started", "gave-up"}) {
			t.Fatalf("RunHelper = %v, steps %v", err, steps)
		}
	})
	t.Run("old server never exits", func(t *testing.T) {
		steps, _, err := helperRun(t, "healthy", func(o *HelperOptions) {
			o.OldPID = os.Getpid()
			o.Wait = 50 * time.Millisecond
		})
		if err == nil || !strings.Contains(err.Error(), "did not exit") || !slices.Equal(steps, []string{"started", "gave-up"}) {
			t.Fatalf("RunHelper = %v, steps %v", err, steps)
		}
	})
	t.Run("cannot spawn", func(t *testing.T) {
		steps, _, err := helperRun(t, "healthy", func(o *HelperOptions) {
			o.Argv = []string{filepath.Join(o.RunDir, "no-such-webui")}
		})
		if err == nil || slices.Contains(steps, "spawned") || steps[len(steps)-1] != "gave-up" {
			t.Fatalf("RunHelper = %v, steps %v", err, steps)
		}
	})
}

// The schedule counts from the old server's exit: an exit long enough ago
// means no wait before the first attempt, and the attempt says how long
// after the exit it came.
func TestRunHelperCountsFromExit(t *testing.T) {
	start := time.Now()
	_, evs, err := helperRun(t, "exit:2", func(o *HelperOptions) {
		o.Schedule.Delay = 5 * time.Second
		o.Exited = time.Now().Add(-10 * time.Second)
	})
	if err == nil || time.Since(start) >= 5*time.Second {
		t.Fatalf("RunHelper = %v after %s: the 5s delay had passed already", err, time.Since(start))
	}
	for _, e := range evs {
		if e["step"] == "delay-done" {
			if s, _ := e["since_old_exit_s"].(float64); s < 10 {
				t.Errorf("delay-done %v: since_old_exit_s counts from Exited", e)
			}
		}
	}
}

func mustAddr(t *testing.T, s string) health.Addr {
	t.Helper()
	a, err := health.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
