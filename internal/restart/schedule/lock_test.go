package schedule_test

import (
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// Held takes and drops the starter lock to look. With processes forking
// beside it (the server starts apps and helpers), the lock must still be
// free the moment it returns, or the restart helper that comes next
// finds it busy and gives up.
func TestHeldLeavesTheLockFreeWhileForking(t *testing.T) {
	t.Parallel()
	true_, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no `true` to fork: ", err)
	}
	dir := t.TempDir()
	var stop atomic.Bool
	done := make(chan struct{})
	diag.Go("test forker", func() {
		defer close(done)
		for !stop.Load() {
			_ = exec.Command(true_).Run()
		}
	})
	defer func() { stop.Store(true); <-done }()
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
