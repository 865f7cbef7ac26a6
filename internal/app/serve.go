package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/doctor"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/nosigpipe"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/platform"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart"
	"github.com/termux-webui/webui/internal/server"
	"github.com/termux-webui/webui/internal/testhooks"
	"github.com/termux-webui/webui/internal/version"
)

// Serve is `webui serve`: run the server in the foreground.
func Serve(ctx context.Context, env Env, args []string) error {
	signals := diag.CatchAhead()
	fs := newFlags(env, "serve", "serve [flags]")
	settings := withSettings(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := settings.config()
	if err == nil {
		err = startable(env, cfg)
	}
	if err != nil {
		diag.EarlyExit(diag.ReasonConfigError, err.Error(), exitcode.Of(err))
		return err
	}
	for _, d := range []string{cfg.StateDir, cfg.RunDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			err = exitcode.Newf(exitcode.Usage, "cannot create %s: %v (set another with --state-dir / --run-dir)", d, err)
			diag.EarlyExit(diag.ReasonConfigError, err.Error(), exitcode.Usage)
			return err
		}
	}
	report := detectPlatform()
	exe, _ := os.Executable()
	inst, err := ctl.NewInstance(cfg, exe, nil, report.Android.Value)
	if err != nil {
		err = configError(err)
		diag.EarlyExit(diag.ReasonConfigError, err.Error(), exitcode.Of(err))
		return err
	}
	var stderr io.Writer
	if logToStderr(cfg.LogStderr, env.Stderr, report.Supervisor) {
		stderr = env.Stderr
	}
	lg, err := logging.New(logging.Options{
		Dir: cfg.LogDir, Level: cfg.LogLevel, MaxSizeMB: cfg.LogMaxSizeMB, MaxFiles: cfg.LogMaxFiles, Stderr: stderr,
		FlushEvery: testhooks.LogFlushEvery(),
	})
	if err != nil {
		err = exitcode.Newf(exitcode.Usage, "%v (set another with --log-dir)", err)
		diag.EarlyExit(diag.ReasonConfigError, err.Error(), exitcode.Usage)
		return err
	}
	defer lg.Close()

	// The pid file stays locked for the server's whole life (and across an
	// exec restart), so a second instance is refused, not started.
	pf, err := proc.Inherit(inst.PIDFile, env.Getenv)
	if err != nil {
		var le *proc.LockedError
		if errors.As(err, &le) {
			err = exitcode.Newf(exitcode.Running, "webui is already running (pid %d); see `webui ctl status`", le.PID)
		} else {
			err = exitcode.Newf(exitcode.Failure, "pid file: %v", err)
		}
		diag.EarlyExit(diag.ReasonAlreadyRunning, err.Error(), exitcode.Of(err))
		return err
	}
	defer pf.Release()

	// A listening socket handed over by the previous image (exec restart)
	// or by systemd socket activation; otherwise ListenEarly listens.
	var ln net.Listener
	if f, err := restart.Inherited(env.Getenv); err != nil {
		lg.Warnf("inherited listener: %v; listening afresh", err)
	} else if f != nil {
		l, err := net.FileListener(f)
		f.Close()
		switch {
		case err != nil:
			lg.Warnf("inherited listener: %v; listening afresh", err)
		case !servesAddr(inst.Addr, l.Addr().String()):
			lg.Infof("addr changed from %s to %s: listening afresh", l.Addr(), cfg.Addr)
			l.Close()
		default:
			ln = l
		}
	}
	// Accepting from here on; Run answers once the rest is built. The
	// record and the secrets load meanwhile, while the first client
	// connects: until then nothing else needs them. The record comes first
	// either way: it is where a failure to listen is told.
	early, listenErr := server.ListenEarly(cfg, ln, lg)
	inflight := server.NewInflight()
	rec, err := diag.Install(diag.Options{
		StateDir: cfg.StateDir, Enabled: cfg.Diagnostics, Keep: cfg.DiagKeep, MaxBytes: cfg.DiagMaxBytes,
		Inflight: func() any { return inflight.List() }, Log: lg, PruneLater: true,
	})
	if err != nil {
		lg.Warn(err) // diagnostics never stop the server
	}
	if listenErr != nil {
		rec.Exiting(diag.ReasonCannotListen, listenErr.Error(), exitcode.Of(listenErr))
		return listenErr
	}
	// The owner's token and the session key, made on first start.
	authz, err := server.OpenAuth(cfg)
	if err != nil {
		early.Close()
		err = exitcode.Newf(exitcode.Usage, "%v (set another state dir with --state-dir)", err)
		rec.Exiting(diag.ReasonConfigError, err.Error(), exitcode.Usage)
		return err
	}
	trapCtx, stopTrap := context.WithCancel(ctx)
	defer stopTrap()
	trap := diag.NewTrap(rec, func() {
		var b strings.Builder
		diag.StackDump(&b)
		lg.WithField("stacks", b.String()).Warn("SIGUSR1: stack dump")
	})
	freezes := &diag.FreezeWatcher{Recorder: rec, OnFreeze: func(f diag.Freeze) {
		lg.WithField("kind", f.Kind).WithField("duration_s", f.DurationS).Warn(diag.FreezeWords(f, report.Android.Value))
	}}

	strategy, why := report.Strategy(cfg.RestartMode)

	engine := &restart.Engine{
		Strategy: strategy, Android: report.Android.Value, Config: cfg, Recorder: rec, PIDFile: pf, Log: syncedLog{lg},
		Watchdog: func() bool {
			_, held, err := proc.Read(paths.Run(cfg.RunDir).WatchdogPID())
			return err == nil && held
		},
	}
	updates, settleUpdates := startUpdates(ctx, cfg, rec, lg, strategy, report.Android.Value)

	hosted := openApps(cfg, lg, report.Android.Value, authz)
	defer hosted.Close() // a restart or an update: the next webui adopts the apps

	var extra func(*mux.Router)
	if testhooks.Routes != nil {
		extra = func(r *mux.Router) { testhooks.Routes(r, lg) }
	}
	// As late as can be: Start waits for the registrations begun at the
	// top, which run meanwhile; none may be missing once Run answers.
	trap.Start(trapCtx, signals)
	err = server.Run(ctx, server.Deps{
		Config:    cfg,
		Log:       lg,
		Version:   version.Version,
		Started:   firstline.Started,
		Restart:   health.RestartInfo{Strategy: strategy, Why: why},
		Recorder:  rec,
		Restarter: engine,
		Early:     early,
		Signals:   signals.Stop,
		Inflight:  inflight,
		Intent:    func() string { return diag.TakeIntent(cfg.RunDir) },
		Lifetimes: lifetimes{cfg.StateDir, diag.LoadOptions{Android: report.Android.Value}},
		Updates:   updates,
		Extra:     extra,
		// The console's status page, evidence bundle and log view.
		Report:   &report,
		Watchdog: inst.Watchdog,
		FollowLog: func(ctx context.Context, lines int, follow bool, emit func(string)) error {
			return ctl.Logs(ctx, paths.Log(cfg.LogDir).Server(), ctl.LogOptions{Lines: lines, Follow: follow}, emit)
		},
		Auth: authz,
		// In a terminal, print the sign-in link, as Jupyter does. Never in
		// a log: a supervisor's or ctl's console log would keep the token.
		Ready: func(addr string) {
			// Off the startup path: the record's heartbeat, the freeze
			// watch, old lifetime records, update housekeeping.
			diag.Go("diagnostics heartbeat", func() { rec.Heartbeat(trapCtx) })
			if testhooks.FreezeWatch() {
				diag.Go("freeze watch", func() { freezes.Run(trapCtx) })
			}
			diag.Go("apps", hosted.Start)
			diag.Go("after listen", func() {
				if err := nosigpipe.Err(); err != nil {
					lg.Warn(err)
				}
				if err := signals.Err(); err != nil {
					lg.Warn(err)
				}
				if err := rec.PruneOld(); err != nil {
					lg.Warn(err)
				}
				settleUpdates()
			})
			if isTerminal(env.Stdout) {
				fmt.Fprintf(env.Stdout, "\n  webui is running. Open this link to sign in:\n\n    %s\n\n", SignInURL(addr, authz.Store().Token()))
			}
		},
		Apps:    hosted,
		Stopped: func(sig syscall.Signal, intent string) { stopApps(hosted, sig, intent, lg) },
		// Freezes (/health?deep=1) and the doctor's checks (/api/doctor).
		LastFreeze: freezes.Last,
		Doctor: func(ctx context.Context, offline bool) doctor.Report {
			return doctor.Run(ctx, doctorProbes(cfg, inst, report, env.Getenv, offline))
		},
	})
	if err != nil {
		return err
	}
	return nil
}

// syncedLog writes each restart line out at once, with every buffered line
// before it: an exec restart replaces the process image right after its
// last line, and with it whatever the log still buffered.
type syncedLog struct{ *logging.Logger }

func (l syncedLog) Infof(format string, args ...any) { l.Logger.Infof(format, args...); l.Flush() }
func (l syncedLog) Warnf(format string, args ...any) { l.Logger.Warnf(format, args...); l.Flush() }

// Version is `webui version`.
func Version(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "webui %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// detectPlatform describes what this process runs on. Tests builds may
// point it at fake /proc trees.
func detectPlatform() platform.Report {
	return platform.Detect(testhooks.PlatformEnv(platform.CurrentEnv()))
}

// Platform is `webui platform`: print what webui detects it runs on, with
// the evidence for each fact and the restart strategy it would choose.
func Platform(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "platform", "platform [--json] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON document")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	r := detectPlatform()
	strategy, why := r.Strategy(cfg.RestartMode)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			platform.Report
			Restart health.RestartInfo `json:"restart"`
		}{r, health.RestartInfo{Strategy: strategy, Why: why}})
	}
	fmt.Fprint(env.Stdout, r.Text())
	fmt.Fprintf(env.Stdout, "restart strategy: %s (%s)\n", strategy, why)
	return nil
}

// servesAddr: may serve, told to listen on want, keep an inherited socket
// listening on have?
func servesAddr(want health.Addr, have string) bool {
	h, err := health.ParseAddr(have)
	return err == nil && want.Serves(h)
}

// logToStderr: with log_stderr = auto, text goes to stderr when a person
// (a terminal) or a supervisor's log collector reads it; a server that
// `webui ctl start` detached keeps only the JSON log file, so the console
// log holds what matters (crash output, early errors) and nothing twice.
func logToStderr(mode string, w io.Writer, supervisor string) bool {
	switch mode {
	case "on":
		return true
	case "off":
		return false
	}
	if (health.Platform{Supervisor: supervisor}).Supervised() {
		return true
	}
	return isTerminal(w)
}
