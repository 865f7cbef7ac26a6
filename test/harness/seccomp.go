package harness

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildSeccomp builds the seccomp launcher (test/fixtures/seccomp), which
// runs a program under Android 11's seccomp policy, and its probe, into
// dir. It returns their paths.
func BuildSeccomp(root, dir string) (launcher, probe string, err error) {
	launcher, probe = filepath.Join(dir, "seccomp"), filepath.Join(dir, "seccomp-probe")
	for _, b := range []struct{ out, pkg string }{{launcher, "./test/fixtures/seccomp"}, {probe, "./test/fixtures/seccomp/probe"}} {
		if out, err := Build(root, b.out, b.pkg, ""); err != nil {
			return "", "", &BuildError{Pkg: b.pkg, Err: err, Out: out}
		}
	}
	return launcher, probe, nil
}

// BuildError is a failed go build with the compiler's output.
type BuildError struct {
	Pkg string
	Err error
	Out []byte
}

func (e *BuildError) Error() string {
	return "go build " + e.Pkg + ": " + e.Err.Error() + "\n" + string(e.Out)
}

// Command is exec.Command(bin, args...), run under the launcher under
// (the seccomp launcher) when under is not "".
func Command(under, bin string, args ...string) *exec.Cmd {
	if under == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command(under, append([]string{bin}, args...)...)
}

// CommandContext is Command killed when ctx ends.
func CommandContext(ctx context.Context, under, bin string, args ...string) *exec.Cmd {
	if under == "" {
		return exec.CommandContext(ctx, bin, args...)
	}
	return exec.CommandContext(ctx, under, append([]string{bin}, args...)...)
}

// Trapped reports whether output shows a process that seccomp stopped: a
// Go program prints "SIGSYS: bad system call", a shell "Bad system call".
func Trapped(output string) bool {
	return strings.Contains(output, "SIGSYS") || strings.Contains(strings.ToLower(output), "bad system call")
}
