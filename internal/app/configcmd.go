package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/termux-webui/webui/internal/config"
)

// Config is `webui config`: print the effective settings and where each came
// from (flag, env, file:LINE or default).
func Config(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "config", "config [--json | --check] [flags]")
	asJSON := fs.Bool("json", false, "print JSON")
	check := fs.Bool("check", false, "validate webui.conf and every apps.d file: each error as file:line: msg, exit 2 if any")
	settings := withSettings(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *check {
		cfg, fileErr, err := settings.lenient()
		if err != nil {
			return err
		}
		return checkConfig(env, cfg, fileErr)
	}
	cfg, err := settings.config()
	if err != nil {
		return err
	}
	return printConfig(env, cfg, *asJSON)
}

func printConfig(env Env, cfg *config.Config, asJSON bool) error {
	type entry struct {
		Value  string `json:"value"`
		Source string `json:"source"`
	}
	if asJSON {
		out := map[string]entry{"config_file": {Value: cfg.ConfigFile, Source: "resolved"}}
		for _, kv := range cfg.Sorted() {
			out[kv[0]] = entry{kv[1], cfg.Source[kv[0]]}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "# config file: %s\n", cfg.ConfigFile)
	for _, kv := range cfg.Sorted() {
		src := cfg.Source[kv[0]]
		if src == "" {
			src = "unset"
		}
		fmt.Fprintf(env.Stdout, "%-20s = %-40s # %s\n", kv[0], kv[1], src)
	}
	return nil
}
