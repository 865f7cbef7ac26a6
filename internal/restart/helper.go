package restart

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
)

// HelperOptions drive `webui restart-helper`, the detached process that
// carries a delayed restart across the old process's exit.
type HelperOptions struct {
	Record   string        // the old lifetime's record: every step is appended to it
	OldPID   int           // wait for this pid to be gone
	Delay    time.Duration // then wait this long (the kill window)
	Survive  time.Duration // the new server must stay alive this long
	Attempts int           // tries before giving up; the delay doubles each time
	Health   string        // the new server's /health URL
	Argv     []string      // the server command, argv[0] an absolute path
	Env      []string
	Strace   string // strace binary, "" = no strace
	// Wait bounds waiting for the old process (default 2 minutes).
	Wait time.Duration
	Logf func(format string, a ...any)
}

// minRetryDelay keeps retries from spinning when the configured delay is 0.
const minRetryDelay = time.Second

// RunHelper waits for the old process to go, waits out the window, starts
// the server and confirms it is healthy and still alive after Survive. A
// server that gets killed is retried with a growing delay; one that exits
// with a code saying a retry cannot help (bad config, port in use, already
// running) is not.
func RunHelper(ctx context.Context, o HelperOptions) error {
	ev := func(step string, f map[string]any) {
		if err := diag.AppendHelperEvent(o.Record, step, f); err != nil && o.Logf != nil {
			o.Logf("restart-helper: record %s: %v", step, err)
		}
		if o.Logf != nil {
			b, _ := json.Marshal(f)
			o.Logf("restart-helper: %s %s", step, b)
		}
	}
	if o.Wait == 0 {
		o.Wait = 2 * time.Minute
	}
	ev("started", map[string]any{"old_pid": o.OldPID, "delay_s": o.Delay.Seconds(), "attempts": o.Attempts})

	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	err := proc.WaitGone(wctx, o.OldPID, 10*time.Millisecond)
	cancel()
	if err != nil {
		ev("gave-up", map[string]any{"detail": fmt.Sprintf("old pid %d still running after %s", o.OldPID, o.Wait)})
		return fmt.Errorf("old process %d did not exit", o.OldPID)
	}
	gone := time.Now()
	ev("old-gone", map[string]any{"old_pid": o.OldPID})

	delay := o.Delay
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		ev("delay-done", map[string]any{"attempt": attempt, "delay_s": delay.Seconds(), "since_old_exit_s": time.Since(gone).Seconds()})

		path, argv := o.Argv[0], o.Argv
		if o.Strace != "" {
			out := strings.TrimSuffix(o.Record, ".jsonl") + fmt.Sprintf(".restart-%d.strace", attempt)
			argv = append([]string{o.Strace, "-f", "-ttt", "-T", "-s", "256", "-o", out, "--"}, o.Argv...)
			path = o.Strace
		}
		started := time.Now()
		pid, err := proc.Spawn(path, argv, proc.Attr{Env: o.Env, Stdout: os.Stdout, Stderr: os.Stderr, Setsid: true})
		if err != nil {
			ev("gave-up", map[string]any{"attempt": attempt, "detail": "spawn: " + err.Error()})
			return err
		}
		ev("spawned", map[string]any{"pid": pid, "attempt": attempt, "strace": o.Strace != ""})

		out := confirm(ctx, pid, o.Health, o.Survive)
		switch {
		case out.survived:
			ev("survived", map[string]any{"pid": pid, "attempt": attempt, "healthy_after_s": out.healthyAfter.Seconds(),
				"since_old_exit_s": time.Since(gone).Seconds()})
			return nil
		case out.dead && out.status.Signaled():
			ev("killed", map[string]any{"pid": pid, "attempt": attempt, "signal": int(out.status.Signal()),
				"detail": fmt.Sprintf("pid %d killed by %s %s after it started", pid, diag.SignalName(out.status.Signal()), time.Since(started).Round(time.Millisecond))})
		case out.dead:
			code := out.status.ExitStatus()
			detail := fmt.Sprintf("pid %d exited with code %d", pid, code)
			if code == exitcode.Usage || code == exitcode.Listen || code == exitcode.Running {
				ev("gave-up", map[string]any{"pid": pid, "attempt": attempt, "code": code, "detail": detail + ": a retry cannot help"})
				return fmt.Errorf("%s", detail)
			}
			ev("failed", map[string]any{"pid": pid, "attempt": attempt, "code": code, "detail": detail})
		default:
			// Alive but not healthy in time: leave it to the watchdog
			// rather than start a second one.
			ev("unhealthy", map[string]any{"pid": pid, "attempt": attempt, "detail": "alive but /health did not answer in time"})
			return fmt.Errorf("pid %d is not healthy", pid)
		}
		if attempt == o.Attempts {
			break
		}
		delay = max(2*delay, minRetryDelay)
		ev("retrying", map[string]any{"attempt": attempt + 1, "delay_s": delay.Seconds()})
	}
	ev("gave-up", map[string]any{"detail": fmt.Sprintf("no attempt survived (%d tries)", o.Attempts)})
	return fmt.Errorf("restart failed after %d attempts", o.Attempts)
}

type outcome struct {
	survived     bool
	dead         bool
	status       syscall.WaitStatus
	healthyAfter time.Duration
}

// confirm waits for pid to answer /health and to be alive survive after
// it started. The helper is its parent, so a death is seen with its status.
func confirm(ctx context.Context, pid int, health string, survive time.Duration) outcome {
	start := time.Now()
	client := &http.Client{Timeout: time.Second}
	deadline := start.Add(max(survive, 30*time.Second))
	var healthy time.Duration
	for time.Now().Before(deadline) {
		if st, ok := proc.Reap()[pid]; ok {
			return outcome{dead: true, status: st}
		}
		if healthy == 0 && healthOK(client, health) {
			healthy = time.Since(start)
		}
		if healthy > 0 && time.Since(start) >= survive {
			return outcome{survived: true, healthyAfter: healthy}
		}
		if sleep(ctx, 25*time.Millisecond) != nil {
			break
		}
	}
	return outcome{}
}

func healthOK(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
