package app

import (
	"context"

	"github.com/termux-webui/webui/internal/server"
	"github.com/termux-webui/webui/internal/update"
)

// settledUpdates is the update API of a server whose update housekeeping
// (update.Service.Startup) runs after it listens, off the startup path:
// each call waits until that has settled, so no request sees or changes
// the state an interrupted update left before it is cleaned up.
type settledUpdates struct {
	*update.Service
	settled chan struct{}
}

var _ server.UpdateAPI = (*settledUpdates)(nil)

func (u *settledUpdates) UpdateCheck(ctx context.Context, force bool) update.CheckResult {
	select {
	case <-u.settled:
	case <-ctx.Done():
	}
	return u.Check(ctx, force)
}

func (u *settledUpdates) UpdateApply(ctx context.Context, req server.UpdateRequest) (update.Status, error) {
	select {
	case <-u.settled:
	case <-ctx.Done():
		return update.Status{}, ctx.Err()
	}
	return u.Apply(ctx, update.ApplyRequest{
		Force: req.Force, AllowDowngrade: req.AllowDowngrade,
		Restart: req.Restart, HealthAddr: req.HealthAddr,
	})
}

func (u *settledUpdates) UpdateStatus() update.Status {
	<-u.settled
	return u.Status()
}
