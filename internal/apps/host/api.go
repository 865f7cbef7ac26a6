package host

import (
	"context"
	"errors"

	"github.com/termux-webui/webui/internal/apps"
)

// ErrNotReady: the supervisor has not started yet (the server has just
// begun to listen) and the caller's context ended first.
var ErrNotReady = errors.New("apps are still starting")

// sup waits, within ctx, for the supervisor.
func (h *Host) waitSup(ctx context.Context) (*apps.Supervisor, error) {
	select {
	case <-h.ready:
		return h.supervisor(), nil
	case <-ctx.Done():
		return nil, ErrNotReady
	}
}

// List is every app's status, broken files included, by name.
func (h *Host) List(ctx context.Context) ([]apps.Status, error) {
	s, err := h.waitSup(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(), nil
}

// Status is one app's status.
func (h *Host) Status(ctx context.Context, name string) (apps.Status, error) {
	s, err := h.waitSup(ctx)
	if err != nil {
		return apps.Status{}, err
	}
	st, ok := s.Status(name)
	if !ok {
		return st, apps.ErrNoApp
	}
	return st, nil
}

// Do starts, stops or restarts an app.
func (h *Host) Do(ctx context.Context, name, action string) error {
	s, err := h.waitSup(ctx)
	if err != nil {
		return err
	}
	switch action {
	case "start":
		return s.Start(name)
	case "stop":
		return s.Stop(name)
	case "restart":
		return s.Restart(name)
	}
	return errors.New("unknown action " + action + ": start, stop or restart")
}

// Logs writes an app's last n log lines, then with follow what comes.
func (h *Host) Logs(ctx context.Context, name string, n int, follow bool, emit func(string)) error {
	s, err := h.waitSup(ctx)
	if err != nil {
		return err
	}
	return s.Logs(ctx, name, n, follow, emit)
}

// History is an app's process lifetimes, newest first.
func (h *Host) History(ctx context.Context, name string) ([]apps.Lifetime, error) {
	s, err := h.waitSup(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := s.Status(name); !ok {
		return nil, apps.ErrNoApp
	}
	return s.History(name), nil
}
