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

func (u *settledUpdates) UpdateCheck(ctx context.Context, force bool) any {
	select {
	case <-u.settled:
	case <-ctx.Done():
	}
	return u.Check(ctx, force)
}

func (u *settledUpdates) UpdateApply(ctx context.Context, req server.UpdateRequest) (any, error) {
	select {
	case <-u.settled:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	st, err := u.Apply(ctx, update.ApplyRequest{
		Force: req.Force, AllowDowngrade: req.AllowDowngrade,
		Restart: req.Restart, HealthAddr: req.HealthAddr,
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (u *settledUpdates) UpdateStatus() (any, string) {
	<-u.settled
	st := u.Status()
	return st, st.State
}
