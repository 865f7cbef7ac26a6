package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/paths"
)

const appUsageText = `Usage: webui app COMMAND [flags]

The hosted apps, one file each in apps.d/NAME.conf beside webui.conf:

  list [--json]          every app: name, kind, state, pid, uptime, restarts,
                         route, and its last verdict or error
  status NAME [--json]   one app, with how its last processes ended
  start|stop|restart NAME
                         ask the running webui to start, stop or restart it
  logs NAME [-n N] [-f]  its stdout and stderr (works while webui is down);
                         -f follows across rotation
  add NAME --command CMD [--route /x/] [--port auto|N] [--dir D] [--health /p]
      [--env K=V ...] [--restart always|on-failure|never] [--auth off]
      [--strip-prefix off] [--force]   (or --root DIR, or --upstream URL)
                         write apps.d/NAME.conf, then ask webui to reload
  reload                 make webui re-read apps.d; prints broken files as
                         file:line: msg

Every command takes the settings flags (--config, --state-dir, ...).
Exit codes: 0 done, 1 failed (reload: a broken file), 2 usage error or
unknown app, 3 webui is not running (start, stop, restart, reload).
`

// App is `webui app`: list, inspect, control, add and reload the hosted
// apps.
func App(ctx context.Context, env Env, args []string) error {
	action := func(verb string) subcommand {
		return subcommand{verb, func(ctx context.Context, env Env, args []string) error { return appAction(ctx, env, verb, args) }}
	}
	return dispatch(ctx, env, "app", appUsageText, args, []subcommand{
		{"list", appList}, {"status", appStatus}, action("start"), action("stop"), action("restart"),
		{"logs", appLogs}, {"add", appAdd}, {"reload", appReload},
	})
}

// parseName parses flags around one NAME argument (before or after them).
func parseName(fs *flag.FlagSet, args []string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", errHelp
		}
		return "", exitcode.New(exitcode.Usage, err)
	}
	rest := fs.Args()
	if name == "" && len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "" {
		return "", exitcode.Newf(exitcode.Usage, "which app? (see `webui %s --help`)", fs.Name())
	}
	if len(rest) > 0 {
		return "", exitcode.Newf(exitcode.Usage, "unexpected argument %q (see `webui %s --help`)", rest[0], fs.Name())
	}
	return name, nil
}

// parseNamed parses an app command's flags around its NAME, which must be
// an app name (it goes into the API's paths), and resolves the settings.
func parseNamed(env Env, fs *flag.FlagSet, args []string) (string, *config.Config, error) {
	settings := withSettings(env, fs)
	name, err := parseName(fs, args)
	if err != nil {
		return "", nil, err
	}
	cfg, err := settings.config()
	if err != nil {
		return "", nil, err
	}
	if !apps.ValidName(name) {
		return "", nil, exitcode.Newf(exitcode.Usage, "bad app name %q (allowed: a-z, 0-9 and -, up to 64)", name)
	}
	return name, cfg, nil
}

// offline is what list and status say without a server: the app files,
// each stopped, or failed with its file's error; the rest from the
// lifetimes.
func offline(cfg *config.Config) []apps.Status {
	specs, errs := apps.LoadDir(paths.AppsDir(cfg.ConfigFile))
	var out []apps.Status
	for _, s := range specs {
		st := apps.Status{Name: s.Name, Kind: s.Kind, State: apps.StateStopped, Route: s.Route, File: s.File}
		if h := apps.History(cfg.StateDir, s.Name); len(h) > 0 {
			st.LastVerdict = h[0].Verdict
		}
		out = append(out, st)
	}
	for _, e := range errs {
		out = append(out, apps.Status{Name: apps.Name(e.File), State: apps.StateFailed, Error: e.Error(), File: e.File})
	}
	return out
}

func appList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "app list", "app list [--json] [flags]")
	asJSON := fs.Bool("json", false, "print JSON: [{name, kind, state, pid, restarts, route, ...}]")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	var list []apps.Status
	down := false
	err = callServer(ctx, cfg, http.MethodGet, "/api/apps", &list)
	switch {
	case errors.Is(err, errNotRunning):
		down, list = true, offline(cfg)
	case err != nil:
		return appsCallError(err)
	}
	if *asJSON {
		if list == nil {
			list = []apps.Status{}
		}
		return encodeJSON(env.Stdout, list)
	}
	if down {
		fmt.Fprintln(env.Stdout, "webui is not running: the apps are stopped")
	}
	if len(list) == 0 {
		fmt.Fprintf(env.Stdout, "no apps in %s (add one with `webui app add`)\n", paths.AppsDir(cfg.ConfigFile))
		return nil
	}
	printAppTable(env.Stdout, list)
	return nil
}

func printAppTable(w io.Writer, list []apps.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tPID\tUPTIME\tRESTARTS\tROUTE\tLAST")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Name, orDash(string(s.Kind)), s.State, pidOrDash(s.PID),
			uptime(s), s.Restarts, orDash(s.Route), orDash(lastWord(s)))
	}
	tw.Flush()
}

func pidOrDash(pid int) string {
	if pid <= 0 {
		return "-"
	}
	return fmt.Sprint(pid)
}

func uptime(s apps.Status) string {
	if s.Uptime <= 0 {
		return "-"
	}
	return fmtDur(float64(s.Uptime))
}

// lastWord is the error of a failed app, else its last verdict, with the
// next try of one in backoff.
func lastWord(s apps.Status) string {
	w := s.LastVerdict
	if s.Error != "" {
		w = s.Error
	}
	if s.NextTry != nil {
		w = strings.TrimSpace(w + " (next try in " + time.Until(*s.NextTry).Round(time.Second).String() + ")")
	}
	return w
}

// appDetail is GET /api/apps/{name}.
type appDetail struct {
	Status  apps.Status     `json:"status"`
	History []apps.Lifetime `json:"history"`
}

func appStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "app status", "app status NAME [--json] [flags]")
	asJSON := fs.Bool("json", false, `print JSON: {"status": {...}, "history": [lifetimes, newest first]}`)
	name, cfg, err := parseNamed(env, fs, args)
	if err != nil {
		return err
	}
	var d appDetail
	down := false
	err = callServer(ctx, cfg, http.MethodGet, "/api/apps/"+name, &d)
	switch {
	case errors.Is(err, errNotRunning):
		down = true
		found := false
		for _, s := range offline(cfg) {
			if s.Name == name {
				d.Status, found = s, true
			}
		}
		if !found {
			return exitcode.Newf(exitcode.Usage, "no app %q in %s", name, paths.AppsDir(cfg.ConfigFile))
		}
		d.History = apps.History(cfg.StateDir, name)
	case err != nil:
		return appsCallError(err)
	}
	if d.History == nil {
		d.History = []apps.Lifetime{}
	}
	if *asJSON {
		return encodeJSON(env.Stdout, d)
	}
	if down {
		fmt.Fprintln(env.Stdout, "webui is not running: the app is stopped")
	}
	printAppTable(env.Stdout, []apps.Status{d.Status})
	if len(d.History) > 0 {
		fmt.Fprintln(env.Stdout, "\nrecent processes, newest first:")
		for i, lt := range d.History {
			if i == 10 {
				break
			}
			fmt.Fprintln(env.Stdout, appLifeLine(lt))
		}
	}
	return nil
}

func appAction(ctx context.Context, env Env, action string, args []string) error {
	fs := newFlags(env, "app "+action, "app "+action+" NAME [flags]")
	name, cfg, err := parseNamed(env, fs, args)
	if err != nil {
		return err
	}
	var res struct {
		Status apps.Status `json:"status"`
	}
	if err := callServer(ctx, cfg, http.MethodPost, "/api/apps/"+name+"/"+action, &res); err != nil {
		if errors.Is(err, errNotRunning) {
			return exitcode.Newf(appsNotRunning, "webui is not running: start it (`webui ctl start`), and its apps start with it")
		}
		return appsCallError(err)
	}
	s := res.Status
	fmt.Fprintf(env.Stdout, "%s: %s", s.Name, s.State)
	if s.PID > 0 {
		fmt.Fprintf(env.Stdout, " (pid %d)", s.PID)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

// reloadResult is POST /api/apps/reload.
type reloadResult struct {
	Apps   []apps.Status `json:"apps"`
	Errors []string      `json:"errors"`
}

func printReloadErrors(env Env, errs []string) {
	for _, e := range errs {
		fmt.Fprintln(env.Stdout, e)
	}
}

func appReload(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "app reload", "app reload [flags]")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	var res reloadResult
	if err := callServer(ctx, cfg, http.MethodPost, "/api/apps/reload", &res); err != nil {
		if errors.Is(err, errNotRunning) {
			return exitcode.Newf(appsNotRunning, "webui is not running: it reads apps.d when it starts (`webui config --check` validates the files now)")
		}
		return appsCallError(err)
	}
	printReloadErrors(env, res.Errors)
	fmt.Fprintf(env.Stdout, "reloaded: %d apps, %d broken files\n", len(res.Apps), len(res.Errors))
	if len(res.Errors) > 0 {
		return silent(exitcode.Failure)
	}
	return nil
}

func appLogs(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "app logs", "app logs NAME [-n N] [-f] [flags]")
	n := fs.Int("n", 50, "how many of the last lines to print")
	follow := fs.Bool("f", false, "then follow what the app writes, across rotation, until interrupted")
	name, cfg, err := parseNamed(env, fs, args)
	if err != nil {
		return err
	}
	if *n < 0 {
		return exitcode.Newf(exitcode.Usage, "-n %d: must be 0 or more", *n)
	}
	path := paths.Log(cfg.LogDir).AppLog(name)
	err = ctl.Logs(ctx, path, ctl.LogOptions{Lines: *n, Follow: *follow}, func(line string) { fmt.Fprintln(env.Stdout, line) })
	if errors.Is(err, iofs.ErrNotExist) {
		return exitcode.Newf(exitcode.Failure, "app %s has no log yet (%s): it never ran, or the name is wrong (see `webui app list`)", name, path)
	}
	if err != nil {
		return exitcode.Newf(exitcode.Failure, "app %s: %v", name, err)
	}
	return nil
}
