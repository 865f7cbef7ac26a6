// Package harness starts the real webui binary as a process for the
// integration tests, the browser tests and the benchmarks: it builds the
// binary, lays out an installation's directories, starts `webui serve`,
// `ctl start` or `watchdog` with a clean environment, waits for it to
// listen, and signs requests as the owner. It is test tooling, so it uses
// os/exec; runtime code spawns through internal/proc.
package harness

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is the path every -X ldflag names.
const Module = "github.com/termux-webui/webui"

// VersionFlag is the -ldflags entry that sets the binary's version.
func VersionFlag(v string) string { return "-X " + Module + "/internal/version.Version=" + v }

// ReleaseLDFlags are the Makefile's.
func ReleaseLDFlags(version string) string { return "-s -w " + VersionFlag(version) }

// RepoRoot finds the module root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module "+Module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the webui module")
		}
		dir = parent
	}
}

// Build compiles pkg (./cmd/webui, a fixture) in root to out with
// CGO_ENABLED=0, as the packages are built. The race detector stays off:
// these programs are about the process's behaviour, and -race is applied
// to the unit tests. It returns the compiler's output.
func Build(root, out, pkg, tags string, ldflags ...string) ([]byte, error) {
	args := []string{"build", "-trimpath", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags", strings.Join(ldflags, " "))
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}
