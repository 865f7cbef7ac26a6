package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// errSilent marks an exit code whose explanation is already on the screen
// (or --quiet asked for none): main must not print the error again.
var errSilent = errors.New("(reported)")

// IsSilent reports whether err only carries an exit code that needs no
// message: `ctl status` and `boot status` report through their output.
func IsSilent(err error) bool { return errors.Is(err, errSilent) }

func silent(code int) error { return exitcode.New(code, errSilent) }

const ctlUsageText = `Usage: webui ctl COMMAND [flags]

Run the server in the background and look after it:

  start     start it detached (logs to <log_dir>/console.log) and wait for /health;
            exit 0 also when it already runs
  stop      stop it on purpose: SIGTERM, SIGKILL after --timeout; the watchdog
            leaves it down until the next start (--watchdog stops the watchdog too)
  restart   restart it through its restart engine (SIGUSR2), or start it
  status    running, stopped or dead, with pid, uptime, version, address,
            restart strategy, the last death's verdict and the watchdog
  logs      the last lines of the log (-n N), readable or --json; -f follows

Every command takes the settings flags (--config, --addr, --run-dir, ...), and
start and restart pass them on to the server. ` + "`webui ctl COMMAND --help`" + ` lists them.

Exit codes of status: 0 running, 1 dead (not running, not stopped on purpose),
2 usage error, 3 stopped (on purpose, or never started), 4 running but /health
does not answer.
`

// Ctl is `webui ctl`: start, stop, restart, status and logs of the server
// running in the background.
func Ctl(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "ctl", ctlUsageText, args, []subcommand{
		{"start", ctlStart}, {"stop", ctlStop}, {"restart", ctlRestart}, {"status", ctlStatus}, {"logs", ctlLogs},
	})
}

// ctlSettings registers the settings flags on fs, as every command that
// takes settings does, and records the ones given so they can be passed on
// to `webui serve`.
func ctlSettings(env Env, fs *flag.FlagSet) (settings *settingsFlags, given *[]string) {
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	settings = withSettings(env, fs)
	given = new([]string)
	fs.VisitAll(func(f *flag.Flag) {
		if !own[f.Name] {
			f.Value = &ctlRecorded{Value: f.Value, name: f.Name, given: given}
		}
	})
	return settings, given
}

// ctlRecorded is a flag value that remembers what it was set to.
type ctlRecorded struct {
	flag.Value
	name  string
	given *[]string
}

func (r *ctlRecorded) Set(v string) error {
	if err := r.Value.Set(v); err != nil {
		return err
	}
	*r.given = append(*r.given, "--"+r.name+"="+v)
	return nil
}

func (r *ctlRecorded) String() string {
	if r == nil || r.Value == nil {
		return "" // flag.PrintDefaults asks a zero value
	}
	return r.Value.String()
}

// ctlInstance describes the server the settings name.
func ctlInstance(cfg *config.Config, serveArgs []string) (*ctl.Instance, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	return ctl.NewInstance(cfg, exe, serveArgs, detectPlatform().Android.Value)
}

// ctlSetup parses args for a ctl command and resolves its instance.
func ctlSetup(env Env, fs *flag.FlagSet, args []string) (*ctl.Instance, *config.Config, error) {
	settings, given := ctlSettings(env, fs)
	cfg, err := settings.load(args)
	if err != nil {
		return nil, nil, err
	}
	inst, err := ctlInstance(cfg, *given)
	return inst, cfg, err
}

func ctlStart(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "ctl start", "ctl start [--wait D] [flags]")
	wait := fs.Duration("wait", 15*time.Second, "how long the server has to answer /health")
	inst, cfg, err := ctlSetup(env, fs, args)
	if err != nil {
		return err
	}
	if err := startable(env, cfg); err != nil {
		return err
	}
	res, err := inst.Start(ctx, ctl.StartOptions{Wait: *wait, Notify: ctlNotify(env, "start")})
	if err != nil {
		return ctlFailed(env, err)
	}
	if res.Already {
		fmt.Fprintf(env.Stdout, "webui is already running: pid %d, http://%s (version %s)\n", res.PID, res.Addr, res.Health.Version)
	} else {
		fmt.Fprintf(env.Stdout, "webui started: pid %d, http://%s (version %s)\n", res.PID, res.Addr, res.Health.Version)
	}
	printSignIn(env, cfg, res.Addr.String())
	return nil
}

func ctlNotify(env Env, cmd string) func(string) {
	return func(msg string) { fmt.Fprintf(env.Stderr, "webui ctl %s: %s\n", cmd, msg) }
}

// ctlFailed prints the evidence of a failed start: the server's last
// console lines and the diagnose line of its lifetime.
func ctlFailed(env Env, err error) error {
	var se *ctl.StartError
	if !errors.As(err, &se) {
		return err
	}
	if len(se.Console) > 0 {
		fmt.Fprintln(env.Stderr, "the server's last console lines:")
		for _, l := range se.Console {
			fmt.Fprintln(env.Stderr, "  "+l)
		}
	}
	if se.Lifetime != nil {
		fmt.Fprintln(env.Stderr, "diagnose: "+Line(*se.Lifetime))
	}
	return exitcode.New(se.Code, errors.New(se.Msg))
}

func ctlStop(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "ctl stop", "ctl stop [--timeout D] [--watchdog] [flags]")
	timeout := fs.Duration("timeout", 10*time.Second, "send SIGKILL if it has not exited this long after SIGTERM")
	withWatchdog := fs.Bool("watchdog", false, "stop the watchdog too (webui-watchdog-loop then ends as well)")
	inst, _, err := ctlSetup(env, fs, args)
	if err != nil {
		return err
	}
	if *withWatchdog {
		if pid, held, err := proc.Read(paths.Run(inst.RunDir).WatchdogPID()); err == nil && held && pid > 0 {
			if _, err := proc.Terminate(ctx, pid, 5*time.Second); err != nil {
				return fmt.Errorf("stop the watchdog: %w", err)
			}
			fmt.Fprintf(env.Stdout, "watchdog stopped (pid %d)\n", pid)
		}
	}
	res, err := inst.Stop(ctx, *timeout, "ctl stop")
	if err != nil {
		return err
	}
	switch {
	case !res.WasRunning:
		fmt.Fprintln(env.Stdout, "webui is not running (marked as stopped: the watchdog leaves it down)")
	case res.Killed:
		fmt.Fprintf(env.Stdout, "webui (pid %d) did not exit within %s of SIGTERM: killed with SIGKILL\n", res.PID, *timeout)
	default:
		fmt.Fprintf(env.Stdout, "webui stopped (pid %d)\n", res.PID)
	}
	switch res.Supervisor {
	case health.SupervisorRunit:
		fmt.Fprintln(env.Stderr, "note: runit supervises webui and will start it again; use `sv down webui` (or `sv-disable webui`)")
	case health.SupervisorSystemd:
		fmt.Fprintln(env.Stderr, "note: systemd supervises webui; use `systemctl stop webui`")
	}
	return nil
}

func ctlRestart(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "ctl restart", "ctl restart [--wait D] [flags]")
	wait := fs.Duration("wait", 15*time.Second, "how long the restarted server has to answer /health (a delayed restart adds restart_delay)")
	inst, _, err := ctlSetup(env, fs, args)
	if err != nil {
		return err
	}
	res, err := inst.Restart(ctx, ctl.StartOptions{Wait: *wait, Notify: ctlNotify(env, "restart")})
	if err != nil {
		return ctlFailed(env, err)
	}
	switch {
	case res.Started && res.Already:
		fmt.Fprintf(env.Stdout, "webui is already running: pid %d, http://%s (version %s)\n", res.PID, res.Addr, res.Health.Version)
	case res.Started:
		fmt.Fprintf(env.Stdout, "webui was not running; started: pid %d, http://%s (version %s)\n", res.PID, res.Addr, res.Health.Version)
	case res.PID == res.OldPID:
		fmt.Fprintf(env.Stdout, "webui restarted in place: pid %d, http://%s (version %s, strategy %s)\n",
			res.PID, res.Addr, res.Health.Version, res.Health.Restart.Strategy)
	default:
		fmt.Fprintf(env.Stdout, "webui restarted: pid %d (was %d), http://%s (version %s, strategy %s)\n",
			res.PID, res.OldPID, res.Addr, res.Health.Version, res.Health.Restart.Strategy)
	}
	return nil
}

func ctlStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "ctl status", "ctl status [--json] [--quiet] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON document")
	quiet := fs.Bool("quiet", false, "print nothing; the exit code says it all")
	timeout := fs.Duration("timeout", 2*time.Second, "how long /health may take to answer")
	inst, _, err := ctlSetup(env, fs, args)
	if err != nil {
		return err
	}
	s := inst.Status(ctx, *timeout)
	switch {
	case *quiet:
	case *asJSON:
		if err := encodeJSON(env.Stdout, s); err != nil {
			return err
		}
	default:
		ctlPrintStatus(env.Stdout, s)
	}
	if code := s.ExitCode(); code != 0 {
		return silent(code)
	}
	return nil
}

func ctlPrintStatus(w io.Writer, s *ctl.Status) {
	if s.State == ctl.StateRunning {
		up := time.Duration(s.UptimeS * float64(time.Second))
		fmt.Fprintf(w, "webui: running (pid %d, up %s, version %s)\n", s.PID, fmtDur(up.Seconds()), s.Version)
	} else if s.PID > 0 {
		fmt.Fprintf(w, "webui: %s (pid %d: %s)\n", s.State, s.PID, s.Summary)
	} else {
		fmt.Fprintf(w, "webui: %s (%s)\n", s.State, s.Summary)
	}
	row := func(k, v string) { fmt.Fprintf(w, "  %-10s %s\n", k+":", v) }
	row("address", "http://"+s.Addr+" (health: "+orDash(s.Health)+")")
	if s.Restart != nil {
		row("restart", string(s.Restart.Strategy)+" ("+s.Restart.Why+")")
	}
	if s.StoppedAt != nil {
		row("stopped", s.StoppedBy)
	}
	if s.LastDeath != nil {
		row("last exit", Line(*s.LastDeath))
	}
	wd := s.Watchdog
	switch {
	case wd.Running:
		row("watchdog", fmt.Sprintf("running (pid %d)", wd.PID))
	default:
		row("watchdog", "not running (webui-watchdog-loop starts it; `webui boot enable` at boot)")
	}
	if wd.LastAction != "" && wd.At != nil {
		row("  last", wd.At.Local().Format("2006-01-02 15:04:05")+" "+wd.LastAction)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ctlLogs(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "ctl logs", "ctl logs [-n N] [--json] [-f] [flags]")
	n := fs.Int("n", 50, "how many of the last lines to print")
	asJSON := fs.Bool("json", false, "print the JSON lines as they are")
	var follow bool
	fs.BoolVar(&follow, "f", false, "follow: keep printing new lines, across log rotation, until Ctrl-C")
	fs.BoolVar(&follow, "follow", false, "same as -f")
	inst, _, err := ctlSetup(env, fs, args)
	if err != nil {
		return err
	}
	if *n < 0 {
		return exitcode.Newf(exitcode.Usage, "-n must be 0 or more")
	}
	if follow {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var werr error
	emit := func(line string) {
		if werr != nil {
			return
		}
		if !*asJSON {
			line = ctl.Render(line)
		}
		if _, werr = io.WriteString(env.Stdout, line+"\n"); werr != nil {
			cancel() // the reader went away (a closed pipe)
		}
	}
	err = ctl.Logs(ctx, paths.Log(inst.LogDir).Server(), ctl.LogOptions{Lines: *n, Follow: follow}, emit)
	if err != nil {
		return err
	}
	if werr != nil && !errors.Is(werr, syscall.EPIPE) {
		return werr
	}
	return nil
}
