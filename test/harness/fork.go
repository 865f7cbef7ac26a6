package harness

import (
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/termux-webui/webui/internal/diag"
)

// ForkBeside forks and runs `true` over and over on another goroutine
// until the test ends, as a server forks hosted apps, dpkg and helpers
// while other code takes and drops locks: each child shares every open
// file until its exec. It skips the test when there is no `true`.
func ForkBeside(t testing.TB) {
	t.Helper()
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no `true` to fork: ", err)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	diag.Go("test forker", func() {
		defer close(done)
		for !stop.Load() {
			_ = exec.Command(bin).Run()
		}
	})
	t.Cleanup(func() { stop.Store(true); <-done })
}
