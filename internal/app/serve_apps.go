package app

import (
	"github.com/termux-webui/webui/internal/apps"
	"github.com/termux-webui/webui/internal/apps/host"
	"github.com/termux-webui/webui/internal/apps/proxy"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/server"
)

// openApps reads apps.d beside the config file. Supervision starts after
// the server listens (Host.Start), so the apps cost the first request
// nothing; a request to an app in between waits for it.
func openApps(cfg *config.Config, lg *logging.Logger, android bool, authz *server.Auth) *host.Host {
	return host.New(host.Options{
		Dir: paths.AppsDir(cfg.ConfigFile),
		Sup: apps.Config{
			StateDir: cfg.StateDir, RunDir: cfg.RunDir, LogDir: cfg.LogDir, Log: lg,
			Android: android, RestartDelay: cfg.RestartDelay,
		},
		Proxy: proxy.Options{
			StripCredentials: authz.StripCredentials,
			CookieNames:      []string{server.SessionCookie},
			Scheme:           authz.Scheme,
			ErrorLog:         lg,
		},
	})
}
