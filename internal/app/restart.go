package app

import (
	"context"
	"errors"
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Restart is `webui restart`, the same as `webui ctl restart`: ask the
// running server to restart through its restart engine (SIGUSR2) and wait
// until a new lifetime answers /health.
func Restart(ctx context.Context, env Env, args []string) error { return ctlRestart(ctx, env, args) }

// RestartHelper is the hidden `webui restart-helper` command that the
// delayed strategy spawns.
func RestartHelper(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "restart-helper", "restart-helper --record FILE --old-pid N [flags] -- SERVER-ARGV...")
	var o restart.HelperOptions
	fs.StringVar(&o.Record, "record", "", "the old lifetime's record")
	fs.IntVar(&o.OldPID, "old-pid", 0, "pid to wait for")
	sched := fs.String("schedule", schedule.Default().String(), "the restart schedule")
	healthURL := fs.String("health", "", "the new server's /health URL")
	fs.StringVar(&o.RunDir, "run-dir", "", "the run dir: restart intent, starter lock, stopped marker")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return exitcode.New(exitcode.Usage, err)
	}
	var err error
	if o.Schedule, err = schedule.Parse(*sched); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if o.RunDir != "" {
		o.StoppedFile = paths.Run(o.RunDir).Stopped()
	}
	o.Argv = fs.Args()
	if o.OldPID <= 0 || len(o.Argv) == 0 || !filepath.IsAbs(o.Argv[0]) {
		return exitcode.Newf(exitcode.Usage, "need --old-pid and an absolute server command after --")
	}
	if o.Health, err = health.ParseURL(*healthURL); err != nil {
		return exitcode.Newf(exitcode.Usage, "--health: %v", err)
	}
	if env.Getenv(handoff.StraceRestart) == "1" {
		if p, err := proc.LookPath("strace"); err == nil {
			o.Strace = p
		}
	}
	o.Env = os.Environ()
	lg := log.New(env.Stderr, "", log.LstdFlags)
	o.Logf = lg.Printf
	return restart.RunHelper(ctx, o)
}
