package update

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/termux-webui/webui/test/harness"
)

// A process forked elsewhere in the server (a hosted app, dpkg) shares
// every open file until its exec closes the CLOEXEC ones. The lock must
// be free the moment Release returns all the same, or the next apply
// is refused as busy.
func TestReleaseFreesWhileForking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	harness.ForkBeside(t)
	for i := 0; i < 3000; i++ {
		l, err := TryLock(dir)
		if err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
		l.Release()
	}
}

// Handed to a helper, the lock stays the helper's after this process
// releases it, and is free the moment the helper dies.
func TestHandedOffLockIsTheHelpers(t *testing.T) {
	t.Parallel()
	sleep := harness.Tool(t, "sleep")
	dir := t.TempDir()
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(sleep, "60")
	helper.ExtraFiles = []*os.File{l.File()}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	l.HandedOff()
	l.Release()
	if _, err := TryLock(dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("lock while the helper holds it: %v, want busy", err)
	}
	helper.Process.Kill()
	helper.Wait()
	l2, err := TryLock(dir)
	if err != nil {
		t.Fatalf("lock after the helper died: %v", err)
	}
	l2.Release()
}
