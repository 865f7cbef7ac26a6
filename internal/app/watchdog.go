// webui watchdog: its flags, and the loop that keeps the server up.

package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Watchdog is `webui watchdog`: keep the server up (see ctl.Watchdog).
// webui-watchdog-loop runs it detached and restarts it if it dies.
func Watchdog(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "watchdog", "watchdog [--interval D] [--timeout D] [--failures N] [flags]")
	interval := fs.Duration("interval", 30*time.Second, "how often to ask /health, to catch a hung server (a death is seen at once, without asking)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long one /health request may take")
	failures := fs.Int("failures", 2, "act after this many failed /health requests in a row")
	wait := fs.Duration("wait", 15*time.Second, "how long a started server has to answer /health (a younger pid file counts as starting)")
	killAfter := fs.Duration("kill-after", 10*time.Second, "a hung server gets SIGKILL this long after SIGTERM")
	stable := fs.Duration("stable-after", time.Minute, "healthy this long resets the crash-loop backoff")
	base := fs.Duration("backoff-base", ctl.DefaultBackoff.Base, "the first delay of a crash loop's backoff; it doubles from there")
	maxDelay := fs.Duration("backoff-max", ctl.DefaultBackoff.Max, "the longest delay between starts, and the delay after a config error (exit 2) or a taken port (exit 3)")
	check := fs.Bool("check", false, "check the flags and settings, and whether a watchdog already runs (exit 4), then exit")
	settings, given := ctlSettings(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{"interval": *interval, "timeout": *timeout, "wait": *wait,
		"kill-after": *killAfter, "stable-after": *stable, "backoff-base": *base, "backoff-max": *maxDelay} {
		if d <= 0 {
			return exitcode.Newf(exitcode.Usage, "--%s must be a positive duration", name)
		}
	}
	if *failures < 1 {
		return exitcode.Newf(exitcode.Usage, "--failures must be 1 or more")
	}
	if *maxDelay < *base {
		return exitcode.Newf(exitcode.Usage, "--backoff-max must not be less than --backoff-base")
	}
	cfg, err := settings.config()
	if err != nil {
		return err
	}
	inst, err := ctlInstance(cfg, *given)
	if err != nil {
		return err
	}
	if *check {
		if pid, held, err := proc.Read(paths.Run(inst.RunDir).WatchdogPID()); err == nil && held {
			return exitcode.Newf(exitcode.Running, "a watchdog already runs (pid %d)", pid)
		}
		return nil
	}
	if err := os.MkdirAll(inst.LogDir, 0o700); err != nil {
		return exitcode.Newf(exitcode.Usage, "cannot create the log dir %s: %v (set another with --log-dir)", inst.LogDir, err)
	}
	logFile := &lumberjack.Logger{Filename: paths.Log(inst.LogDir).Watchdog(), MaxSize: 1, MaxBackups: 1}
	defer logFile.Close()
	logf := func(format string, a ...any) {
		line := time.Now().Format("2006-01-02T15:04:05.000Z07:00") + " " + fmt.Sprintf(format, a...) + "\n"
		_, _ = io.WriteString(logFile, line)
		_, _ = io.WriteString(env.Stderr, line)
	}

	// One P: the watchdog mostly waits, and with a second idle P every
	// goroutine it woke also woke a thread to look for work (a third of
	// an idle probe's context switches). The servers it starts have their
	// own setting.
	runtime.GOMAXPROCS(1)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The watchdog outlives terminals; SIGHUP is noted, not obeyed. (Caught
	// rather than ignored, so the servers it starts do not inherit SIG_IGN.)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	diag.Go("watchdog sighup", func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				logf("SIGHUP: ignored (the watchdog stops on SIGTERM)")
			}
		}
	})

	restarts, _ := strconv.Atoi(env.Getenv(handoff.WatchdogRestarts))
	w := ctl.NewWatchdog(inst, ctl.WatchdogOptions{
		Interval: *interval, Timeout: *timeout, Failures: *failures, StartWait: *wait, KillAfter: *killAfter,
		StableAfter: *stable, Backoff: schedule.Backoff{Base: *base, Max: *maxDelay, Free: ctl.DefaultBackoff.Free}, ConfigFile: cfg.ConfigFile,
		Reload: func() (*ctl.Instance, error) {
			cfg, err := settings.resolve()
			if err != nil {
				return nil, err
			}
			return ctlInstance(cfg, *given)
		},
		Logf: logf, Describe: Line,
		Restarts: restarts, PrevExit: env.Getenv(handoff.WatchdogPrevExit),
	})
	return w.Run(ctx)
}
