package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/doctor"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/logging"
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
	fs := newFlags(env, "serve", "serve [flags]")
	resolve := env.loader().FlagSet(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err == nil {
		moveExposedHash(env, cfg)
		err = cfg.Check()
	}
	if err != nil {
		err = configError(err)
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
	// The owner's token and the session key, made on first start.
	authz, err := server.OpenAuth(cfg)
	if err != nil {
		err = exitcode.Newf(exitcode.Usage, "%v (set another state dir with --state-dir)", err)
		diag.EarlyExit(diag.ReasonConfigError, err.Error(), exitcode.Usage)
		return err
	}
	report := detectPlatform()
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
	pf, err := proc.Inherit(PIDFile(cfg.RunDir), env.Getenv)
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

	inflight := server.NewInflight()
	rec, err := diag.Install(diag.Options{
		StateDir: cfg.StateDir, Enabled: cfg.Diagnostics, Keep: cfg.DiagKeep, MaxBytes: cfg.DiagMaxBytes,
		Inflight: func() any { return inflight.List() }, Log: lg, PruneLater: true,
	})
	if err != nil {
		lg.Warn(err) // diagnostics never stop the server
	}
	trapCtx, stopTrap := context.WithCancel(ctx)
	defer stopTrap()
	trap := diag.NewTrap(rec, func() {
		var b strings.Builder
		diag.StackDump(&b)
		lg.WithField("stacks", b.String()).Warn("SIGUSR1: stack dump")
	})
	trap.Start(trapCtx)
	diag.Go("diagnostics heartbeat", func() { rec.Heartbeat(trapCtx) })
	freezes := &diag.FreezeWatcher{Recorder: rec, OnFreeze: func(f diag.Freeze) {
		lg.WithField("kind", f.Kind).WithField("duration_s", f.DurationS).Warn(diag.FreezeWords(f, report.Android.Value))
	}}
	if testhooks.FreezeWatch() {
		diag.Go("freeze watch", func() { freezes.Run(trapCtx) })
	}

	strategy, why := report.Strategy(cfg.RestartMode)

	// A listening socket handed over by the previous image (exec restart)
	// or by systemd socket activation; otherwise Run listens itself.
	var ln net.Listener
	if f, err := restart.Inherited(env.Getenv); err != nil {
		lg.Warnf("inherited listener: %v; listening afresh", err)
	} else if f != nil {
		l, err := net.FileListener(f)
		f.Close()
		switch {
		case err != nil:
			lg.Warnf("inherited listener: %v; listening afresh", err)
		case !sameAddr(l.Addr().String(), cfg.Addr):
			lg.Infof("addr changed from %s to %s: listening afresh", l.Addr(), cfg.Addr)
			l.Close()
		default:
			ln = l
		}
	}
	engine := &restart.Engine{
		Strategy: strategy, Android: report.Android.Value, Config: cfg, Recorder: rec, PIDFile: pf, Log: syncedLog{lg},
		Watchdog: func() bool {
			_, held, err := proc.Read((&ctl.Instance{RunDir: cfg.RunDir}).WatchdogPIDFile())
			return err == nil && held
		},
	}
	updates, settleUpdates := startUpdates(ctx, cfg, rec, lg, strategy, report.Android.Value)

	var extra func(*mux.Router)
	if testhooks.Routes != nil {
		extra = func(r *mux.Router) { testhooks.Routes(r, lg) }
	}
	err = server.Run(ctx, server.Options{
		Config:    cfg,
		Log:       lg,
		Version:   version.Version,
		Started:   firstline.Started,
		Platform:  report.Summary(),
		Restart:   server.RestartInfo{Strategy: strategy, Why: why},
		Recorder:  rec,
		Restarter: engine,
		Listener:  ln,
		Inflight:  inflight,
		Intent:    func() string { return diag.TakeIntent(cfg.RunDir) },
		Diagnose: func(id string) (any, error) {
			opts := diag.LoadOptions{Android: report.Android.Value}
			if id != "" {
				return diag.Find(cfg.StateDir, id, opts)
			}
			lts, err := diag.Load(cfg.StateDir, opts)
			if lts == nil {
				lts = []diag.Lifetime{}
			}
			return lts, err
		},
		Updates: updates,
		Extra:   extra,
		// The console's status page, evidence bundle and log view.
		Report:   &report,
		Watchdog: func() any { return (&ctl.Instance{RunDir: cfg.RunDir}).Watchdog() },
		FollowLog: func(ctx context.Context, lines int, follow bool, emit func(string)) error {
			return ctl.Logs(ctx, filepath.Join(cfg.LogDir, logging.FileName), ctl.LogOptions{Lines: lines, Follow: follow}, emit)
		},
		Auth: authz,
		// In a terminal, print the sign-in link, as Jupyter does. Never in
		// a log: a supervisor's or ctl's console log would keep the token.
		Ready: func(addr string) {
			// Off the startup path: old lifetime records, update housekeeping.
			diag.Go("after listen", func() {
				if err := rec.PruneOld(); err != nil {
					lg.Warn(err)
				}
				settleUpdates()
			})
			if writesTerminal(env.Stdout) {
				fmt.Fprintf(env.Stdout, "\n  webui is running. Open this link to sign in:\n\n    %s\n\n", SignInURL(addr, authz.Store().Token()))
			}
		},
		// Freezes (/health?deep=1) and the doctor's checks (/api/doctor).
		LastFreeze: freezes.Last,
		Doctor: func(ctx context.Context, offline bool) any {
			return doctor.Run(ctx, doctorProbes(cfg, report, env.Getenv, offline))
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
	resolve := env.loader().FlagSet(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return configError(err)
	}
	r := detectPlatform()
	strategy, why := r.Strategy(cfg.RestartMode)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			platform.Report
			Restart server.RestartInfo `json:"restart"`
		}{r, server.RestartInfo{Strategy: strategy, Why: why}})
	}
	fmt.Fprint(env.Stdout, r.Text())
	fmt.Fprintf(env.Stdout, "restart strategy: %s (%s)\n", strategy, why)
	return nil
}

// PIDFile is the running server's pid file in runDir.
func PIDFile(runDir string) string { return paths.Run(runDir).PIDFile() }

// sameAddr: does an inherited socket listening on have serve want? Port 0
// (any port) accepts whatever was inherited.
func sameAddr(have, want string) bool {
	hh, hp, err1 := net.SplitHostPort(have)
	wh, wp, err2 := net.SplitHostPort(want)
	if err1 != nil || err2 != nil {
		return false
	}
	if wp != "0" && wp != hp {
		return false
	}
	if wh == "localhost" {
		wh = "127.0.0.1"
	}
	hip, wip := net.ParseIP(hh), net.ParseIP(wh)
	return wh == "" || (hip != nil && wip != nil && hip.Equal(wip)) || hh == wh
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
	if supervisor == platform.SupervisorSystemd || supervisor == platform.SupervisorRunit {
		return true
	}
	return writesTerminal(w)
}

func writesTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
