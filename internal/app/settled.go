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

func (u *settledUpdates) UpdateCheck(ctx context.Context, force bool) any {
	select {
	case <-u.settled:
	case <-ctx.Done():
	}
	return u.Service.UpdateCheck(ctx, force)
}

func (u *settledUpdates) UpdateApply(ctx context.Context, req server.UpdateRequest) (any, error) {
	select {
	case <-u.settled:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return u.Service.UpdateApply(ctx, req)
}

func (u *settledUpdates) UpdateStatus() (any, string) {
	<-u.settled
	return u.Service.UpdateStatus()
}
