package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// versionVar is the variable the version is linked into.
const versionVar = "github.com/termux-webui/webui/internal/version.Version"

// buildEnv is the environment of `go build` for t: static (CGO_ENABLED=0),
// and every architecture level pinned so that a developer's GOAMD64=v3 does
// not leak into a release or change its bytes.
func buildEnv(t Target) []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + t.GOOS, "GOARCH=" + t.GOARCH}
	switch t.GOARCH {
	case "arm":
		env = append(env, "GOARM="+t.GOARM)
	case "amd64":
		env = append(env, "GOAMD64=v1")
	case "386":
		env = append(env, "GO386=sse2")
	case "arm64":
		env = append(env, "GOARM64=v8.0")
	}
	return env
}

// buildArgs are the `go build` arguments: stripped (-s -w), no file system
// paths (-trimpath), the version linked in. -buildvcs=false because the
// version already says which commit it is, and a tree without commits
// cannot be stamped.
func buildArgs(out, version string) []string {
	return []string{
		"build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X " + versionVar + "=" + version,
		"-o", out, "./cmd/webui",
	}
}

// buildBinary cross-compiles cmd/webui for t into out. It writes a
// temporary file and renames it, so out is never half written.
func buildBinary(ctx context.Context, root, out string, t Target, version string, getenv func(string) string, stderr io.Writer) error {
	goTool := getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp")
	cmd := exec.CommandContext(ctx, goTool, buildArgs(tmp, version)...)
	cmd.Dir = root
	// Later entries win: the target's settings override the caller's.
	cmd.Env = append(os.Environ(), buildEnv(t)...)
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("go %v: %w", cmd.Args[1:], err)
	}
	return os.Rename(tmp, out)
}
