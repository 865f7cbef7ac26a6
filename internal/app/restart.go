package app

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart"
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
	fs.DurationVar(&o.Delay, "delay", 15*time.Second, "wait this long after the old process exits")
	fs.DurationVar(&o.Survive, "survive", 10*time.Second, "the new server must live this long")
	fs.IntVar(&o.Attempts, "attempts", 5, "attempts")
	fs.StringVar(&o.Health, "health", "", "the new server's /health URL")
	if err := fs.Parse(args); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	o.Argv = fs.Args()
	if o.OldPID <= 0 || len(o.Argv) == 0 || !filepath.IsAbs(o.Argv[0]) {
		return exitcode.Newf(exitcode.Usage, "restart-helper: need --old-pid and an absolute server command after --")
	}
	if env.Getenv(restart.EnvStrace) == "1" {
		if p, err := proc.LookPath("strace"); err == nil {
			o.Strace = p
		}
	}
	o.Env = os.Environ()
	lg := log.New(env.Stderr, "", log.LstdFlags)
	o.Logf = lg.Printf
	return restart.RunHelper(ctx, o)
}
