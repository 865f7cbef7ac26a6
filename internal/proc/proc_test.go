package proc

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNoOSExec(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"os/exec"` {
				t.Errorf("%s imports os/exec: it probes pidfd (SIGSYS on Android <= 11)", name)
			}
		}
		if strings.Contains(string(src), "os."+"StartProcess(") {
			t.Errorf("%s calls os.StartProcess", name)
		}
	}
}

func TestSpawnSetsid(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "pid")
	pid := sh(t, `echo $$ > "$1"; sleep 5`, Attr{Setsid: true}, out)
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the group: sh and its sleep
		kill(t, pid)
	})
	waitFor(t, "pid written", func() bool {
		b, _ := os.ReadFile(out)
		return strings.HasSuffix(string(b), "\n")
	})
	b, _ := os.ReadFile(out)
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(pid) {
		t.Fatalf("child says $$=%s, Spawn returned %d", got, pid)
	}
	st, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.session != pid || st.pgrp != pid {
		t.Fatalf("session %d pgrp %d, want both %d", st.session, st.pgrp, pid)
	}
	if st.ppid != os.Getpid() {
		t.Fatalf("ppid %d, want %d", st.ppid, os.Getpid())
	}
	me, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if me.session == pid {
		t.Fatal("we are in the child's session")
	}

	// Without Setsid the child stays in our session.
	pid2 := sh(t, `exit 0`, Attr{})
	st2, err := readStat(pid2)
	if err == nil && st2.session != me.session {
		t.Fatalf("no-setsid child session %d, ours %d", st2.session, me.session)
	}
	mustWait(t, pid2)
}

func TestSpawnExtraFiles(t *testing.T) {
	t.Parallel()
	r3, w3, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r4, w4, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r3.Close(); _ = r4.Close() }()
	pid := sh(t, `echo hi >&3; echo there >&4`, Attr{ExtraFiles: []*os.File{w3, w4}})
	_ = w3.Close()
	_ = w4.Close()
	b3, err := io.ReadAll(r3)
	if err != nil {
		t.Fatal(err)
	}
	b4, err := io.ReadAll(r4)
	if err != nil {
		t.Fatal(err)
	}
	if string(b3) != "hi\n" || string(b4) != "there\n" {
		t.Fatalf("fd 3 %q, fd 4 %q", b3, b4)
	}
	if ws := mustWait(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("exit %v", ws)
	}
}

// run spawns sh with stdout to a pipe and returns what it printed.
func runOut(t *testing.T, script string, a Attr) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	a.Stdout = w
	pid := sh(t, script, a)
	_ = w.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if ws := mustWait(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("%q: exit %v", script, ws)
	}
	return string(b)
}

func TestSpawnEnvDirStdio(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := runOut(t, `printf '%s|%s|%s' "$FOO" "$(pwd -P)" "${HOME:-unset}"`, Attr{Env: []string{"FOO=bar baz"}, Dir: dir})
	if want := "bar baz|" + dir + "|unset"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// nil Env means ours.
	if got := runOut(t, `printf %s "$PATH"`, Attr{}); got != os.Getenv("PATH") {
		t.Fatalf("PATH %q, want %q", got, os.Getenv("PATH"))
	}
	// nil Stdin is /dev/null: cat sees EOF at once instead of hanging.
	if got := runOut(t, `cat; echo done; echo err >&2`, Attr{}); got != "done\n" {
		t.Fatalf("got %q", got)
	}
}

func TestSpawnErrors(t *testing.T) {
	t.Parallel()
	_, err := Spawn("/nonexistent/prog", nil, Attr{})
	if err == nil || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "spawn /nonexistent/prog") {
		t.Fatalf("got %v", err)
	}
	_, err = Spawn("/bin/true", nil, Attr{Dir: "/nonexistent"})
	if err == nil {
		t.Fatal("bad Dir: no error")
	}
}

func TestWaitExitCode(t *testing.T) {
	t.Parallel()
	ws := mustWait(t, sh(t, `exit 7`, Attr{}))
	if !ws.Exited() || ws.ExitStatus() != 7 {
		t.Fatalf("status %v, want exit 7", ws)
	}

	pid, err := Spawn("/bin/sleep", []string{"sleep", "30"}, Attr{})
	if err != nil {
		t.Fatal(err)
	}
	defer kill(t, pid)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, pid); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a sleeper: %v, want deadline", err)
	}
	if _, err := Wait(context.Background(), os.Getpid()); !errors.Is(err, syscall.ECHILD) {
		t.Fatalf("Wait on a non-child: %v, want ECHILD", err)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	ws, err := Run(context.Background(), "/bin/sh", []string{"sh", "-c", "exit 3"}, Attr{})
	if err != nil || ws.ExitStatus() != 3 {
		t.Fatalf("Run: %v %v", ws, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Run(ctx, "/bin/sleep", []string{"sleep", "30"}, Attr{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run past deadline: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Run took %v after its deadline", d)
	}
}

// The reaping tests are not parallel: Reap takes every child of the test
// process, and a zombie must stay a zombie until we look at it.

func TestLookPath(t *testing.T) {
	t.Parallel()
	p, err := LookPath("sh")
	if err != nil || !filepath.IsAbs(p) {
		t.Fatalf("LookPath(sh) = %q, %v", p, err)
	}
	if _, err := LookPath("no-such-program-webui-test"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := LookPath("/etc/passwd"); err == nil {
		t.Fatal("non-executable with slash: no error")
	}
}
