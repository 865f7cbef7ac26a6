package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/platform"
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
	if err != nil {
		return configError(err)
	}
	if err := cfg.Check(); err != nil {
		return configError(err)
	}
	for _, d := range []string{cfg.StateDir, cfg.RunDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return exitcode.Newf(exitcode.Usage, "cannot create %s: %v (set another with --state-dir / --run-dir)", d, err)
		}
	}
	lg, err := logging.New(logging.Options{
		Dir: cfg.LogDir, Level: cfg.LogLevel, MaxSizeMB: cfg.LogMaxSizeMB, MaxFiles: cfg.LogMaxFiles, Stderr: env.Stderr,
	})
	if err != nil {
		return exitcode.Newf(exitcode.Usage, "%v (set another with --log-dir)", err)
	}
	defer lg.Close()
	diag.SetPanicReporter(func(where string, v any, stack []byte) {
		lg.WithField("where", where).WithField("stack", string(stack)).Errorf("recovered panic: %v", v)
	})

	report := detectPlatform()
	strategy, why := report.Strategy(cfg.RestartMode)

	var extra func(*mux.Router)
	if testhooks.Routes != nil {
		extra = func(r *mux.Router) { testhooks.Routes(r, lg) }
	}
	err = server.Run(ctx, server.Options{
		Config:   cfg,
		Log:      lg,
		Version:  version.Version,
		Started:  firstline.Started,
		Platform: report.Summary(),
		Restart:  server.RestartInfo{Strategy: strategy, Why: why},
		Extra:    extra,
	})
	if err != nil {
		return err
	}
	return nil
}

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
