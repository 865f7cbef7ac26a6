package apps

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/test/harness"
)

// The supervisor looks at an app's lock while it forks other apps. A look
// must leave the lock free when it returns, or the app's next start finds
// its own lock held.
func TestLockHeldLeavesTheLockFreeWhileForking(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	harness.ForkBeside(t)
	for i := 0; i < 3000; i++ {
		if lockHeld(path) {
			t.Fatalf("look %d: held, with no holder", i)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatalf("take %d after a look: %v", i, err)
		}
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
}
