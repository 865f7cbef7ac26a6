package ctl

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// killHung gets a stack dump from a server that does not answer, then
// stops it.
func (w *Watchdog) killHung(ctx context.Context, pid int, cause error) {
	w.act(fmt.Sprintf("server pid %d runs but /health failed %d times (%s): SIGUSR1 for a stack dump, then SIGTERM", pid, w.fails, errString(cause)), nil)
	dumped, killed, err := w.inst.KillHung(ctx, pid, w.o.KillAfter, "watchdog: /health did not answer")
	what := "stopped by SIGTERM"
	if killed {
		what = fmt.Sprintf("killed with SIGKILL (no exit %s after SIGTERM)", w.o.KillAfter)
	}
	if dumped {
		what = "stack dump recorded; " + what
	} else {
		what = "no stack dump recorded; " + what
	}
	if err != nil {
		what += fmt.Sprintf(" (%v)", err)
	}
	w.act(fmt.Sprintf("server pid %d: %s", pid, what), nil)
}

// KillHung asks pid for a stack dump (SIGUSR1; SIGCONT so a stopped
// process can act on it), waits up to 2s for the dump to land in its
// lifetime record, announces intent and stops it: SIGTERM, then SIGKILL
// after grace.
func (i *Instance) KillHung(ctx context.Context, pid int, grace time.Duration, intent string) (dumped, killed bool, err error) {
	rec := diag.RecordOf(i.StateDir, pid)
	before := fileSize(rec)
	_ = syscall.Kill(pid, syscall.SIGUSR1)
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if rec != "" {
		deadline := time.Now().Add(2 * time.Second)
		for fileSize(rec) == before && time.Now().Before(deadline) && ctx.Err() == nil {
			_ = schedule.Sleep(ctx, 20*time.Millisecond)
		}
		dumped = fileSize(rec) > before
	}
	if err := diag.WriteIntent(i.RunDir, intent); err != nil {
		return dumped, false, err
	}
	killed, err = proc.Terminate(ctx, pid, grace)
	_ = os.Remove(paths.Run(i.RunDir).Intent())
	return dumped, killed, err
}
