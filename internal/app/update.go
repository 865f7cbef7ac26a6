package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/server"
	"github.com/termux-webui/webui/internal/update"
	"github.com/termux-webui/webui/internal/version"
)

const updateUsageText = `Usage: webui update COMMAND [flags]

Update webui from its signed release feed (update_url):

  check     is a newer version out? (works without a running server)
  apply     download, verify (signature and sha256), install and restart
            into it; rolled back if the new version does not come up.
            --from FILE applies offline: a manifest.json (with FILE.sig and
            the artifacts beside it), or a .deb or binary with its detached
            signature (--sig, default FILE.sig)
  status    the last update's outcome, as /api/updates/status reports it

Every command takes the settings flags (--config, --state-dir, --update-url,
--update-keys, ...); ` + "`webui update COMMAND --help`" + ` lists them.
`

// Update is `webui update`.
func Update(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "update", updateUsageText, args, []subcommand{
		{"check", updateCheck}, {"apply", updateApply},
		{"status", func(_ context.Context, env Env, args []string) error { return updateStatus(env, args) }},
	}, subcommand{"confirm", updateConfirm})
}

// updateLog prints the service's warnings; its progress lines are the
// command's own business.
type updateLog struct{ w io.Writer }

func (l updateLog) Infof(string, ...any) {}
func (l updateLog) Warnf(format string, a ...any) {
	fmt.Fprintf(l.w, "webui update: "+format+"\n", a...)
}

func updateSetup(env Env, fs *flag.FlagSet, args []string) (*config.Config, error) {
	return withSettings(env, fs).load(args)
}

func updateCheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "update check", "update check [--json] [--timeout D] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON document")
	timeout := fs.Duration("timeout", update.ManifestTimeout, "give up on the release feed after this long")
	cfg, err := updateSetup(env, fs, args)
	if err != nil {
		return err
	}
	svc, err := update.New(update.Options{Config: cfg, Version: version.Version, Log: updateLog{env.Stderr}, CheckTimeout: *timeout})
	if err != nil {
		return err
	}
	res := svc.Check(ctx, true)
	if *asJSON {
		if err := encodeJSON(env.Stdout, res); err != nil {
			return err
		}
		if res.Error != "" {
			return silent(exitcode.Failure)
		}
		return nil
	}
	if res.Apt != nil {
		fmt.Fprintf(env.Stdout, "webui %s: %s\n", res.Current, res.Message)
		return nil
	}
	if res.Error != "" {
		return exitcode.Newf(exitcode.Failure, "%s", res.Error)
	}
	if !res.Available {
		fmt.Fprintf(env.Stdout, "webui %s is up to date (latest %s on the %s channel, target %s)\n", res.Current, res.Latest, res.Channel, res.Target)
		return nil
	}
	fmt.Fprintf(env.Stdout, "update available: webui %s → %s (%s channel, target %s", res.Current, res.Latest, res.Channel, res.Target)
	if res.Published != "" {
		fmt.Fprintf(env.Stdout, ", published %s", res.Published)
	}
	fmt.Fprintln(env.Stdout, ")")
	if notes := strings.TrimSpace(res.Notes); notes != "" {
		fmt.Fprintln(env.Stdout, "\n"+notes+"\n")
	}
	fmt.Fprintln(env.Stdout, "apply it with: webui update apply")
	return nil
}

func updateApply(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "update apply", "update apply [--yes] [--from FILE [--sig FILE]] [--allow-downgrade] [flags]")
	yes := fs.Bool("yes", false, "do not ask before updating")
	from := fs.String("from", "", "apply offline from FILE: a manifest.json, or a .deb or binary")
	sig := fs.String("sig", "", "the signature of --from (default: FILE.sig)")
	allowDowngrade := fs.Bool("allow-downgrade", false, "allow installing an older version")
	timeout := fs.Duration("timeout", update.ManifestTimeout, "give up on the release feed after this long")
	cfg, err := updateSetup(env, fs, args)
	if err != nil {
		return err
	}
	if *sig != "" && *from == "" {
		return exitcode.Newf(exitcode.Usage, "--sig goes with --from")
	}
	if err := update.AptRefusal(""); err != nil {
		return updateError(err)
	}
	for _, d := range []string{cfg.StateDir, cfg.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return exitcode.Newf(exitcode.Usage, "cannot create %s: %v", d, err)
		}
	}
	inst, err := ctlInstance(cfg, nil)
	if err != nil {
		return err
	}
	var srv *update.ServerInfo
	if pid, ok := inst.Running(); ok {
		addr := inst.HealthAddr(pid)
		h, err := inst.Probe(ctx, addr, 3*time.Second)
		if err != nil {
			return exitcode.Newf(exitcode.Failure, "the server (pid %d) does not answer /health (%v): an update would restart it blind; see `webui ctl status`", pid, err)
		}
		srv = &update.ServerInfo{PID: pid, HealthAddr: addr, Strategy: h.Restart.Strategy, Record: diag.RecordOf(cfg.StateDir, pid), Args: update.ServerArgs(pid)}
	}
	svc, err := update.New(update.Options{Config: cfg, Version: version.Version, Log: updateLog{env.Stderr}, CheckTimeout: *timeout,
		Android: detectPlatform().Android.Value})
	if err != nil {
		return err
	}
	bar := &progress{w: env.Stderr}
	req := update.ApplyRequest{
		AllowDowngrade: *allowDowngrade, From: *from, Sig: *sig, Server: srv,
		Progress: bar.set,
	}
	if !*yes {
		if !isTerminal(env.Stdin) {
			return exitcode.Newf(exitcode.Usage, "not asking without a terminal: pass --yes to update")
		}
		req.Confirm = func(from, to string, size int64, notes string) bool {
			if n := strings.TrimSpace(notes); n != "" {
				fmt.Fprintln(env.Stdout, n+"\n")
			}
			fmt.Fprintf(env.Stdout, "Update webui %s → %s (%.1f MiB)? [y/N] ", from, to, float64(size)/(1<<20))
			line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
			return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
		}
	}
	job, err := svc.Prepare(ctx, req)
	switch {
	case update.IsUpToDate(err):
		fmt.Fprintf(env.Stdout, "webui %s is up to date\n", version.Version)
		return nil
	case update.IsDeclined(err):
		fmt.Fprintln(env.Stdout, "not updated")
		return nil
	case err != nil:
		return updateError(err)
	}
	fmt.Fprintf(env.Stdout, "updating webui %s → %s (%s)\n", job.From(), job.To(), job.Method())
	if err := job.Run(ctx); err != nil {
		bar.stop()
		return exitcode.New(exitcode.Failure, err)
	}
	if srv == nil {
		st := svc.Status()
		fmt.Fprintln(env.Stdout, st.Message)
		return nil
	}
	return awaitOutcome(ctx, env, cfg, job)
}

// awaitOutcome follows status.json while the server restarts and the
// helper confirms (or rolls back), printing each new state.
func awaitOutcome(ctx context.Context, env Env, cfg *config.Config, job *update.Job) error {
	bound := update.ConfirmTimeout + cfg.RestartDelay + cfg.RestartSurvive + 2*time.Minute
	deadline := time.Now().Add(bound)
	last := ""
	for {
		st, _ := update.ReadStatus(cfg.StateDir)
		if line := st.State + ": " + st.Message; line != last {
			fmt.Fprintln(env.Stdout, line)
			last = line
		}
		switch st.State {
		case update.StateDone:
			return nil
		case update.StateRolledBack, update.StateFailed:
			return silent(exitcode.Failure)
		}
		if time.Now().After(deadline) {
			return exitcode.Newf(exitcode.Failure, "no outcome after %s; see `webui update status` and %s", bound.Round(time.Second), paths.Log(cfg.LogDir).Update())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// updateError gives refusals their exit code: usage-like ones 2.
func updateError(err error) error {
	var ue *update.Error
	if errors.As(err, &ue) && ue.Code == 400 {
		return exitcode.New(exitcode.Usage, err)
	}
	return exitcode.New(exitcode.Failure, err)
}

func updateStatus(env Env, args []string) error {
	fs := newFlags(env, "update status", "update status [--json] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON document")
	cfg, err := updateSetup(env, fs, args)
	if err != nil {
		return err
	}
	st, err := update.ReadStatus(cfg.StateDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "webui update status: %v\n", err)
	}
	if *asJSON {
		return encodeJSON(env.Stdout, st)
	}
	fmt.Fprintf(env.Stdout, "%s: %s\n", st.State, st.Message)
	if st.State == update.StateDownloading && st.Progress.Total > 0 {
		fmt.Fprintf(env.Stdout, "progress: %d of %d bytes\n", st.Progress.Bytes, st.Progress.Total)
	}
	if !st.UpdatedAt.IsZero() {
		fmt.Fprintf(env.Stdout, "at: %s\n", st.UpdatedAt.Local().Format(time.RFC3339))
	}
	return nil
}

// updateConfirm is the hidden `webui update confirm`, spawned detached by
// an apply: it inherits the apply lock as fd 3 and holds it until done.
func updateConfirm(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "update confirm", "update confirm --pending FILE")
	pending := fs.String("pending", "", "the pending.json of the update")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pending == "" {
		return exitcode.Newf(exitcode.Usage, "--pending FILE is required")
	}
	lg := log.New(env.Stderr, "", log.LstdFlags)
	p, err := update.ReadPending(*pending)
	if err != nil {
		return err
	}
	// The apply lock, inherited as fd 3, is held until the outcome is
	// written; it must not leak into a server a rollback starts.
	release := update.InheritedLock(3, p.StateDir)
	if release == nil {
		lg.Printf("update confirm: fd 3 is not the apply lock of %s; confirming without it", p.StateDir)
	}
	inst, err := ctl.NewInstance(&config.Config{Addr: p.Addr, RunDir: p.RunDir, LogDir: p.LogDir, StateDir: p.StateDir, RestartDelay: p.RestartDelay},
		p.Exe, p.Args, p.Android)
	if err != nil {
		return fmt.Errorf("%s: %w", *pending, err)
	}
	if err := update.RunConfirm(ctx, *pending, p, inst, release, lg.Printf); err != nil {
		lg.Printf("update confirm: %v", err)
		return silent(exitcode.Failure)
	}
	return nil
}

// startUpdates makes the server's update service and returns it with the
// work that can wait until the server listens: settling what an
// interrupted update left behind, then the background checks (see
// settledUpdates). A problem is logged and leaves the server without
// updates (nil), never stops it.
func startUpdates(ctx context.Context, cfg *config.Config, rec *diag.Recorder, lg update.Logger, strategy health.Strategy, android bool) (server.UpdateAPI, func()) {
	svc, err := update.New(update.Options{Config: cfg, Version: version.Version, Log: lg, Recorder: rec, Strategy: strategy, Android: android})
	if err != nil {
		lg.Warnf("updates unavailable: %v", err)
		return nil, func() {}
	}
	u := &settledUpdates{Service: svc, settled: make(chan struct{})}
	settle := func() {
		svc.Startup()
		close(u.settled)
		diag.Go("update checks", func() { svc.RunChecks(ctx) })
	}
	// An update in progress (this may be its new version starting) is
	// settled before the server answers, as it always was: its
	// confirmation helper must not see /health before Startup has looked.
	if _, err := os.Stat(paths.State(cfg.StateDir).Updates().Pending()); err == nil {
		settle()
		return u, func() {}
	}
	return u, settle
}
