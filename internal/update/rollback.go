package update

import (
	"context"
	"os"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

// restoreBinary puts the previous version back: for dpkg with the cached
// .deb of it when there is one, else (and for swaps) from .prev.
func (c *confirmer) restoreBinary(ctx context.Context) (note string, err error) {
	p := c.p
	if p.Method == MethodDpkg {
		if deb := cachedDeb(paths.State(p.StateDir).Updates().PrevDeb(), p.From); deb != "" && p.Dpkg != "" {
			if err := dpkgInstall(ctx, p.Dpkg, deb, paths.State(p.StateDir).Updates().DpkgRollbackLog()); err == nil {
				_ = os.Remove(p.Prev)
				return " (reinstalled the cached " + p.From + " .deb)", nil
			} else {
				c.logf("update confirm: dpkg rollback: %v; restoring the binary only", err)
			}
		}
		if err := restorePrev(p.Exe, p.Prev); err != nil {
			return "", err
		}
		return "; only the binary was restored: dpkg's database still lists webui " + p.To + " (reinstall " + p.From + " with apt or pkg to make it agree)", nil
	}
	return "", restorePrev(p.Exe, p.Prev)
}

// awaitVersion waits for /health to answer with version; the pid or 0.
func (c *confirmer) awaitVersion(ctx context.Context, version string, within time.Duration) int {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if h, err := c.inst.Probe(ctx, c.health, time.Second); err == nil && CompareVersions(h.Version, version) == 0 {
			return h.PID
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(200 * time.Millisecond):
		}
	}
	return 0
}
