package packaging_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducible builds again, from scratch into another directory, with
// the same version and SOURCE_DATE_EPOCH: the binaries and the packages
// must be byte-identical to the first build.
func TestReproducible(t *testing.T) {
	t.Parallel()
	names := []string{"termux-aarch64", "linux-amd64"}
	first := mainDebs(t)
	second := debs(t, "repro", v1, names...)
	for _, name := range names {
		for _, f := range []string{"webui-" + name, filepath.Base(debPath(first, v1, name)), repoDebName(targetNamed(name).family, v1)} {
			a, errA := os.ReadFile(filepath.Join(first, f))
			b, errB := os.ReadFile(filepath.Join(second, f))
			if errA != nil || errB != nil {
				t.Fatalf("%s: %v, %v", f, errA, errB)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs between two builds of the same tree (%d and %d bytes)", f, len(a), len(b))
			}
		}
	}
}
