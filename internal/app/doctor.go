package app

import (
	"context"
	"fmt"
	"os"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/doctor"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/platform"
)

// Doctor is `webui doctor`: what on this device will stop, kill or freeze
// webui, and how to fix each thing. It exits non-zero only when a check
// fails.
func Doctor(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "doctor", "doctor [--json] [--offline] [flags]")
	asJSON := fs.Bool("json", false, `print one JSON document: {"checks":[{"id","status","summary","fix","value"}]}`)
	offline := fs.Bool("offline", false, "skip the network steps (the update host lookup)")
	settings := withSettings(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// A broken config file must not hide the rest of the report.
	cfg, fileErr, err := settings.lenient()
	if err != nil {
		return err
	}
	if fileErr != nil {
		fmt.Fprintf(env.Stderr, "note: config file ignored (%v)\n", fileErr)
	}
	report := detectPlatform()
	exe, _ := os.Executable()
	inst, err := ctl.NewInstance(cfg, exe, nil, report.Android.Value)
	if err != nil {
		return configError(err)
	}
	r := doctor.Run(ctx, doctorProbes(cfg, inst, report, env.Getenv, *offline))
	if *asJSON {
		if err := encodeJSON(env.Stdout, r); err != nil {
			return err
		}
	} else {
		doctor.WriteText(env.Stdout, r)
	}
	if r.Failed() {
		return silent(exitcode.Failure)
	}
	return nil
}

// doctorProbes are the live probes for cfg (also behind GET /api/doctor).
func doctorProbes(cfg *config.Config, inst *ctl.Instance, report platform.Report, getenv func(string) string, offline bool) *doctor.Probes {
	return &doctor.Probes{Config: cfg, Instance: inst, Platform: report, Getenv: getenv, Offline: offline}
}
