package app

import (
	"context"
	"syscall"
	"time"

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

// appsStopTimeout bounds how long stopping webui waits for its apps.
const appsStopTimeout = 30 * time.Second

// stopApps stops the apps when webui stops for good: `webui ctl stop`, or
// Ctrl-C in a terminal. A bare SIGTERM (a supervisor's stop or restart, a
// hung server killed by the watchdog) leaves them running for the next
// webui to adopt: apps outlive webui's restarts, and a supervisor's
// restart looks like a stop.
func stopApps(h *host.Host, sig syscall.Signal, intent string, lg *logging.Logger) {
	if intent != "ctl stop" && sig != syscall.SIGINT {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), appsStopTimeout)
	defer cancel()
	if err := h.StopAll(ctx); err != nil {
		lg.Warnf("stopping the apps: %v", err)
	}
}
