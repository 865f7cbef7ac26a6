package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/paths"
)

// envList is a repeatable --env K=V.
type envList []string

func (e *envList) String() string { return strings.Join(*e, ",") }
func (e *envList) Set(v string) error {
	k, _, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// onOffFlag is a flag whose only useful value is "off" (the default is on).
func onOffFlag(fs *flag.FlagSet, name, usage string) *string {
	return fs.String(name, "on", usage+" (on or off)")
}

// appAdd is `webui app add`: write apps.d/NAME.conf from flags, then ask a
// running webui to reload.
func appAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "app add", "app add NAME (--command CMD | --root DIR | --upstream URL) [--route /x/] [flags]")
	command := fs.String("command", "", "the app's command line (no shell unless you write sh -c '…')")
	route := fs.String("route", "", "the URL prefix (default /NAME/)")
	port := fs.String("port", "auto", "auto, or the port the app listens on ($PORT)")
	dir := fs.String("dir", "", "the app's working directory (default: your home)")
	healthPath := fs.String("health", "", "a path polled for readiness and liveness, e.g. /healthz")
	root := fs.String("root", "", "serve this directory as a static site instead of running a command")
	upstream := fs.String("upstream", "", "proxy to this server (http://127.0.0.1:PORT or unix:/path) instead")
	var envs envList
	fs.Var(&envs, "env", "KEY=VALUE in the app's environment (repeatable)")
	restart := fs.String("restart", apps.RestartOnFailure, "restart policy: always, on-failure or never")
	authF := onOffFlag(fs, "auth", "behind webui's login; off publishes the app")
	strip := onOffFlag(fs, "strip-prefix", "strip the route prefix; off for apps told their base path")
	force := fs.Bool("force", false, "replace an existing app's file")
	name, cfg, err := parseNamed(env, fs, args)
	if err != nil {
		return err
	}
	s := apps.Defaults(name)
	kinds := 0
	if *command != "" {
		kinds++
		s.Kind = apps.Process
		if s.Command, err = apps.SplitCommand(*command); err != nil {
			return exitcode.Newf(exitcode.Usage, "--command: %v", err)
		}
	}
	if *root != "" {
		kinds++
		s.Kind, s.Root = apps.Static, absFlag(*root)
	}
	if *upstream != "" {
		kinds++
		s.Kind, s.Upstream = apps.Proxy, *upstream
	}
	if kinds != 1 {
		return exitcode.Newf(exitcode.Usage, "give exactly one of --command, --root and --upstream")
	}
	if s.Kind == apps.Process {
		if *port != "auto" {
			if s.Port, err = strconv.Atoi(*port); err != nil || s.Port < 1 || s.Port > 65535 {
				return exitcode.Newf(exitcode.Usage, "--port %q (allowed: auto, or 1-65535)", *port)
			}
		}
		s.Dir, s.Env, s.Restart = absFlag(*dir), envs, *restart
	} else if len(envs) > 0 || *dir != "" || *port != "auto" || *restart != apps.RestartOnFailure {
		return exitcode.Newf(exitcode.Usage, "--env, --dir, --port and --restart are for a --command app")
	}
	if *route != "" {
		s.Route = *route
	}
	s.Health = *healthPath
	for _, f := range []struct {
		flag string
		v    string
		to   *bool
	}{{"auth", *authF, &s.Auth}, {"strip-prefix", *strip, &s.StripPrefix}} {
		switch f.v {
		case "on", "off":
			*f.to = f.v == "on"
		default:
			return exitcode.Newf(exitcode.Usage, "--%s %q (allowed: on or off)", f.flag, f.v)
		}
	}
	dirApps := paths.AppsDir(cfg.ConfigFile)
	// The file's own parser says what is wrong with a value (a route that
	// collides with webui's, a bad policy), before anything is written.
	spec, ferr := apps.Parse(filepath.Join(dirApps, name+".conf"), apps.Render(s))
	if ferr != nil {
		return exitcode.Newf(exitcode.Usage, "app add %s: %s", name, ferr.Msg)
	}
	file, err := apps.Add(dirApps, spec, *force)
	if err != nil {
		if errors.Is(err, apps.ErrExists) {
			return exitcode.Newf(exitcode.Usage, "app %s exists: %v", name, err)
		}
		return exitcode.Newf(exitcode.Usage, "%v", err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s\n", file)
	var res reloadResult
	if err = callServer(ctx, cfg, "POST", "/api/apps/reload", &res); err == nil {
		fmt.Fprintln(env.Stdout, "webui reloaded its apps")
		printReloadErrors(env, res.Errors)
		return nil
	}
	if errors.Is(err, errNotRunning) {
		fmt.Fprintln(env.Stdout, "webui is not running: the app starts with it (`webui ctl start`)")
		return nil
	}
	fmt.Fprintf(env.Stdout, "webui did not reload (%v): run `webui app reload`\n", err)
	return nil
}

// absFlag makes a relative path from the command line absolute, as the
// file wants one; "~/x" stays for the server to expand.
func absFlag(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
