package app

import (
	"context"
	"fmt"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/paths"
)

// Diagnose is `webui diagnose`: how the last lifetimes ended, one line each.
func Diagnose(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "diagnose", "diagnose [--json] [--id ID | --app NAME] [-n N] [flags]")
	asJSON := fs.Bool("json", false, "print one JSON document (a list of lifetimes, newest first)")
	id := fs.String("id", "", "show one lifetime in full, stacks included (an id, a prefix of one, or a pid)")
	n := fs.Int("n", 10, "how many lifetimes to show (0 = all)")
	appName := fs.String("app", "", "the lifetimes of hosted app NAME's processes instead of webui's")
	settings := withSettings(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// A broken config file is exactly when diagnose is needed: read the
	// records from the flag, environment or default state dir.
	cfg, fileErr, err := settings.lenient()
	if err != nil {
		return err
	}
	if fileErr != nil {
		fmt.Fprintf(env.Stderr, "note: config file ignored (%v); reading %s\n", fileErr, cfg.StateDir)
	}
	if *appName != "" {
		return diagnoseApp(env, cfg.StateDir, *appName, *n, *asJSON)
	}
	opts := diag.LoadOptions{Android: detectPlatform().Android.Value}
	if *id != "" {
		lt, err := diag.Find(cfg.StateDir, *id, opts)
		if err != nil {
			return err
		}
		if *asJSON {
			return encodeJSON(env.Stdout, lt)
		}
		printDetail(env.Stdout, lt, opts.Android)
		return nil
	}
	lts, err := diag.Load(cfg.StateDir, opts)
	if err != nil {
		return err
	}
	if *n > 0 && len(lts) > *n {
		lts = lts[:*n]
	}
	if *asJSON {
		if lts == nil {
			lts = []diag.Lifetime{}
		}
		return encodeJSON(env.Stdout, lts)
	}
	if len(lts) == 0 {
		fmt.Fprintf(env.Stdout, "no lifetimes recorded in %s\n", paths.State(cfg.StateDir).Lifetimes())
		return nil
	}
	for _, lt := range lts {
		fmt.Fprintln(env.Stdout, Line(lt))
	}
	return nil
}
