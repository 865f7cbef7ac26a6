package app

import (
	"fmt"

	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/paths"
)

// diagnoseApp is `webui diagnose --app NAME`: the app's process lifetimes,
// newest first, read from the state dir (webui need not run).
func diagnoseApp(env Env, stateDir, name string, n int, asJSON bool) error {
	if !apps.ValidName(name) {
		return exitcode.Newf(exitcode.Usage, "--app %q: not an app name (allowed: a-z, 0-9 and -)", name)
	}
	lts := apps.History(stateDir, name)
	if n > 0 && len(lts) > n {
		lts = lts[:n]
	}
	if asJSON {
		if lts == nil {
			lts = []apps.Lifetime{}
		}
		return encodeJSON(env.Stdout, lts)
	}
	if len(lts) == 0 {
		fmt.Fprintf(env.Stdout, "no lifetimes recorded for app %s in %s\n", name, paths.State(stateDir).Lifetimes().AppLifetimes(name))
		return nil
	}
	for _, lt := range lts {
		fmt.Fprintln(env.Stdout, appLifeLine(lt))
	}
	return nil
}

// appLifeLine is one app process lifetime in one line, as Line is one of
// webui's: start, pid, how it ended, how long it lived, verdict, summary.
func appLifeLine(lt apps.Lifetime) string {
	end := "-"
	switch {
	case lt.Signal != "":
		end = lt.Signal
	case lt.Code != nil:
		end = fmt.Sprintf("exit %d", *lt.Code)
	}
	s := fmt.Sprintf("%s  pid %-7d %-9s lived %-9s %-16s %s", lt.StartedAt.Local().Format("2006-01-02 15:04:05"), lt.PID, end,
		fmtDur(lt.LivedS), lt.Verdict, lt.Summary)
	if lt.Hint != "" {
		s += " — hint: " + lt.Hint
	}
	return s
}

// checkConfig is `webui config --check`: webui.conf and every app file,
// each error as file:line: msg; exit 2 if any.
func checkConfig(env Env, cfg *config.Config, fileErr error) error {
	bad := 0
	if fileErr != nil {
		fmt.Fprintln(env.Stdout, fileErr)
		bad++
	} else if err := cfg.Check(); err != nil {
		fmt.Fprintln(env.Stdout, err)
		bad++
	}
	dir := paths.AppsDir(cfg.ConfigFile)
	specs, errs := apps.LoadDir(dir)
	for _, e := range errs {
		fmt.Fprintln(env.Stdout, e.Error())
		bad++
	}
	if bad > 0 {
		return exitcode.New(exitcode.Usage, fmt.Errorf("%d errors in %s and %s", bad, cfg.ConfigFile, dir))
	}
	fmt.Fprintf(env.Stdout, "ok: %s and %d apps in %s\n", cfg.ConfigFile, len(specs), dir)
	return nil
}
