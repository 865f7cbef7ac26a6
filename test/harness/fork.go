package harness

import (
	"os"
	"os/exec"
	"sync/atomic"
	"testing"

	"github.com/termux-webui/webui/internal/diag"
)

// ForkBeside forks and runs `true` over and over on another goroutine
// until the test ends, as a server forks hosted apps, dpkg and helpers
// while other code takes and drops locks: each child shares every open
// file until its exec.
func ForkBeside(t testing.TB) {
	t.Helper()
	bin := Tool(t, "true")
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

// Tool is the path of the program name. Without it the test fails when
// CI=true (CI installs what the tests need) and skips otherwise.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: %v", name, err)
		}
		t.Skipf("no %s: %v", name, err)
	}
	return p
}
