package schedule_test

import (
	"testing"

	"github.com/termux-webui/webui/internal/restart/schedule"
	"github.com/termux-webui/webui/test/harness"
)

// Held takes and drops the starter lock to look. With processes forking
// beside it (the server starts apps and helpers), the lock must still be
// free the moment it returns, or the restart helper that comes next
// finds it busy and gives up.
func TestHeldLeavesTheLockFreeWhileForking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	harness.ForkBeside(t)
	for i := 0; i < 3000; i++ {
		if schedule.Held(dir) {
			t.Fatalf("look %d: held, with no holder", i)
		}
		l, err := schedule.TryLock(dir)
		if err != nil {
			t.Fatalf("take %d after a look: %v", i, err)
		}
		l.Release()
	}
}
