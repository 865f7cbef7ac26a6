package update

import (
	"context"

	"github.com/termux-webui/webui/internal/server"
)

// The Service is the server's UpdateAPI.
var _ server.UpdateAPI = (*Service)(nil)

// UpdateCheck implements server.UpdateAPI (GET /api/updates/check).
func (s *Service) UpdateCheck(ctx context.Context, force bool) any { return s.Check(ctx, force) }

// UpdateApply implements server.UpdateAPI (POST /api/updates/apply).
func (s *Service) UpdateApply(ctx context.Context, req server.UpdateRequest) (any, error) {
	st, err := s.Apply(ctx, ApplyRequest{
		Force: req.Force, AllowDowngrade: req.AllowDowngrade,
		Restart: req.Restart, HealthAddr: req.HealthAddr,
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// UpdateStatus implements server.UpdateAPI (GET /api/updates/status).
func (s *Service) UpdateStatus() (any, string) {
	st := s.Status()
	return st, st.State
}
