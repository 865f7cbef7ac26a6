package proc

import (
	"bufio"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/handoff"
	"golang.org/x/sys/unix"
)

// Helper modes: the test binary re-runs itself as a child that holds a pid
// file, so lock behaviour is tested across real processes.
const (
	envHold    = "PROC_TEST_HOLD"    // Acquire path, then sleep
	envExec    = "PROC_TEST_EXEC"    // Acquire path, KeepAcrossExec, exec self with envInherit
	envInherit = "PROC_TEST_INHERIT" // Inherit path, write path+".inherited", sleep
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envInherit) != "":
		helperInherit(os.Getenv(envInherit))
	case os.Getenv(envExec) != "":
		helperExec(os.Getenv(envExec))
	case os.Getenv(envHold) != "":
		helperHold(os.Getenv(envHold))
	default:
		os.Exit(m.Run())
	}
}

func helperFail(msg string, err error) {
	_, _ = os.Stderr.WriteString("proc test helper: " + msg + ": " + err.Error() + "\n")
	os.Exit(3)
}

func helperHold(path string) {
	if _, err := Acquire(path); err != nil {
		helperFail("acquire", err)
	}
	time.Sleep(60 * time.Second)
	os.Exit(0)
}

func helperExec(path string) {
	p, err := Acquire(path)
	if err != nil {
		helperFail("acquire", err)
	}
	kv, err := p.KeepAcrossExec()
	if err != nil {
		helperFail("keep", err)
	}
	time.Sleep(100 * time.Millisecond) // let the parent see the pre-exec holder
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, envExec+"=") && !strings.HasPrefix(e, handoff.PIDFileFD+"=") {
			env = append(env, e)
		}
	}
	env = append(env, envInherit+"="+path, kv)
	exe, err := os.Executable()
	if err != nil {
		helperFail("executable", err)
	}
	err = syscall.Exec(exe, []string{exe, "-test.run=^$"}, env)
	helperFail("exec", err)
}

func helperInherit(path string) {
	p, err := Inherit(path, os.Getenv)
	if err != nil {
		helperFail("inherit", err)
	}
	result := "fallback"
	if os.Getenv(handoff.PIDFileFD) == strconv.Itoa(int(p.File().Fd())) {
		result = "adopted"
	}
	if !cloexec(p.File()) {
		result += " no-cloexec"
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(result), 0o644); err != nil {
		helperFail("marker", err)
	}
	if err := os.Rename(tmp, path+".inherited"); err != nil {
		helperFail("marker", err)
	}
	time.Sleep(60 * time.Second)
	os.Exit(0)
}

func cloexec(f *os.File) bool {
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	return err == nil && fl&unix.FD_CLOEXEC != 0
}

// spawnHelper runs the test binary in a helper mode and kills it at cleanup.
func spawnHelper(t *testing.T, mode, path string) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := Spawn(exe, []string{exe, "-test.run=^$"}, Attr{
		Env:    append(os.Environ(), mode+"="+path),
		Stderr: os.Stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kill(t, pid) })
	return pid
}

// kill SIGKILLs pid and reaps it.
func kill(t *testing.T, pid int) {
	_ = syscall.Kill(pid, syscall.SIGKILL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = Wait(ctx, pid)
}

// waitFor polls cond every 2 ms until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustWait(t *testing.T, pid int) syscall.WaitStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := Wait(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func sh(t *testing.T, script string, a Attr, args ...string) int {
	t.Helper()
	pid, err := Spawn("/bin/sh", append([]string{"sh", "-c", script, "sh"}, args...), a)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

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

func TestAliveZombie(t *testing.T) {
	if !Alive(os.Getpid()) || !Alive(1) {
		t.Fatal("we or init are not alive")
	}
	if Alive(0) || Alive(-1) {
		t.Fatal("pid 0 / -1 alive")
	}
	pid, err := Spawn("/bin/true", nil, Attr{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "zombie", func() bool {
		st, err := readStat(pid)
		return err == nil && st.state == 'Z'
	})
	if Alive(pid) {
		t.Fatal("zombie reported alive")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("kill(zombie, 0) = %v: the zombie check is what Alive needs /proc for", err)
	}
	if ws := mustWait(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("true exited %v", ws)
	}
	if Alive(pid) {
		t.Fatal("reaped child alive")
	}
}

func TestReap(t *testing.T) {
	if got := Reap(); len(got) != 0 {
		t.Fatalf("stray children reaped: %v", got)
	}
	p1 := sh(t, `exit 0`, Attr{})
	p2 := sh(t, `exit 5`, Attr{})
	p3, err := Spawn("/bin/sleep", []string{"sleep", "30"}, Attr{})
	if err != nil {
		t.Fatal(err)
	}
	defer kill(t, p3)
	for _, pid := range []int{p1, p2} {
		waitFor(t, "zombie", func() bool {
			st, err := readStat(pid)
			return err == nil && st.state == 'Z'
		})
	}
	got := Reap()
	if len(got) != 2 || got[p1].ExitStatus() != 0 || got[p2].ExitStatus() != 5 || !got[p2].Exited() {
		t.Fatalf("Reap = %v, want %d:0 %d:5", got, p1, p2)
	}
	for _, pid := range []int{p1, p2} {
		if _, err := readStat(pid); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("pid %d still in /proc after Reap: %v", pid, err)
		}
		if Alive(pid) {
			t.Fatalf("pid %d alive after Reap", pid)
		}
	}
	if !Alive(p3) {
		t.Fatal("running child not alive")
	}
	if got := Reap(); len(got) != 0 {
		t.Fatalf("second Reap = %v", got)
	}
	// Wait still learns the status of a child Reap took.
	if ws := mustWait(t, p2); ws.ExitStatus() != 5 {
		t.Fatalf("Wait after Reap: %v", ws)
	}
}

func TestStartTicks(t *testing.T) {
	t.Parallel()
	start := func() int {
		pid, err := Spawn("/bin/sleep", []string{"sleep", "5"}, Attr{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kill(t, pid) })
		return pid
	}
	a := start()
	time.Sleep(30 * time.Millisecond) // clock ticks are usually 10 ms
	b := start()
	ta, err := StartTicks(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := StartTicks(b)
	if err != nil {
		t.Fatal(err)
	}
	if ta == 0 || tb <= ta {
		t.Fatalf("start ticks %d then %d", ta, tb)
	}
	if again, _ := StartTicks(a); again != ta {
		t.Fatalf("start ticks changed: %d -> %d", ta, again)
	}
	if _, err := StartTicks(0); err == nil {
		t.Fatal("StartTicks(0): no error")
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// comm may contain spaces and ')': fields count from the last ')'.
	line := "4242 (we) ird ) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654321 1000 10 18446744073709551615\n"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{state: 'S', ppid: 1, pgrp: 4242, session: 4242, startTicks: 987654321}
	if st != want {
		t.Fatalf("got %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2 3", "1 (x) S a 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	t.Run("ignores TERM", func(t *testing.T) {
		t.Parallel()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = r.Close() }()
		pid := sh(t, `trap "" TERM; echo ready; exec sleep 30`, Attr{Stdout: w})
		_ = w.Close()
		defer kill(t, pid)
		if line, _ := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
			t.Fatalf("child said %q", line)
		}
		start := time.Now()
		killed, err := Terminate(context.Background(), pid, 200*time.Millisecond)
		if err != nil || !killed {
			t.Fatalf("Terminate = %v, %v; want killed", killed, err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("SIGKILL after %v, before the grace ran out", d)
		}
		if Alive(pid) {
			t.Fatal("still alive")
		}
		// Terminate reaped it; Wait still gets the status.
		if ws := mustWait(t, pid); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("status %v, want SIGKILL", ws)
		}
		if _, err := readStat(pid); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("not reaped: %v", err)
		}
	})
	t.Run("obeys TERM", func(t *testing.T) {
		t.Parallel()
		pid, err := Spawn("/bin/sleep", []string{"sleep", "30"}, Attr{})
		if err != nil {
			t.Fatal(err)
		}
		defer kill(t, pid)
		start := time.Now()
		killed, err := Terminate(context.Background(), pid, 5*time.Second)
		if err != nil || killed {
			t.Fatalf("Terminate = %v, %v; want not killed", killed, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
		if ws := mustWait(t, pid); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Fatalf("status %v, want SIGTERM", ws)
		}
		// Already gone: not an error.
		if killed, err := Terminate(context.Background(), pid, time.Second); killed || err != nil {
			t.Fatalf("Terminate(gone) = %v, %v", killed, err)
		}
	})
	t.Run("bad pids", func(t *testing.T) {
		t.Parallel()
		for _, pid := range []int{0, -1, os.Getpid()} {
			if _, err := Terminate(context.Background(), pid, time.Second); err == nil {
				t.Errorf("Terminate(%d): no error", pid)
			}
		}
	})
}

func TestWaitGone(t *testing.T) {
	t.Parallel()
	pid, err := Spawn("/bin/sleep", []string{"sleep", "30"}, Attr{})
	if err != nil {
		t.Fatal(err)
	}
	defer kill(t, pid)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := WaitGone(ctx, pid, 5*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitGone on a sleeper: %v", err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	// Gone means exited: an unreaped zombie counts.
	if err := WaitGone(context.Background(), pid, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestDaemon(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "webui.log")
	script := `echo out; echo err >&2; cat; echo "sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$"`
	pid, err := Daemon("/bin/sh", []string{"sh", "-c", script}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	mustWait(t, pid)
	pid2, err := Daemon("/bin/sh", []string{"sh", "-c", "echo again"}, []string{"X=1"}, log)
	if err != nil {
		t.Fatal(err)
	}
	mustWait(t, pid2)
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "out\nerr\nsid=" + strconv.Itoa(pid) + " pid=" + strconv.Itoa(pid) + "\nagain\n"
	if string(b) != want {
		t.Fatalf("log %q, want %q", b, want)
	}
	st, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v", st.Mode())
	}
	if _, err := Daemon("/bin/true", nil, nil, filepath.Join(log, "nodir", "x.log")); err == nil {
		t.Fatal("unopenable log: no error")
	}
}

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

func TestAcquireTwiceInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	p1, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	// flock is per open file description: a second open conflicts even in
	// the same process.
	p2, err := Acquire(path)
	if err == nil {
		_ = p2.Release()
		t.Fatal("second Acquire succeeded")
	}
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second Acquire: %v", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("error does not name the pid: %v", err)
	}
	pid, held, err := Read(path)
	if err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read = %d, %v, %v", pid, held, err)
	}
	if err := p1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := p1.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file left after Release: %v", err)
	}
	if _, _, err := Read(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read of a missing file: %v", err)
	}
	p3, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer func() { _ = p3.Release() }()
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("content %q", b)
	}
}

func TestAcquireOverwritesLongerStalePID(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	if err := os.WriteFile(path, []byte("1234567890\nleftover\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, held, err := Read(path)
	if err != nil || held || pid != 1234567890 {
		t.Fatalf("Read stale = %d, %v, %v", pid, held, err)
	}
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Release() }()
	if b, _ := os.ReadFile(path); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("content %q", b)
	}
}

func TestUnlinkRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	p1, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	// Between the second Acquire's open and its flock, the holder releases:
	// the file it opened is unlinked and unlocked. Locking it would succeed
	// on an inode nobody can find; Acquire must notice and start over.
	var mu sync.Mutex
	opens := 0
	hook := func(p string) {
		if p != path {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		opens++
		if opens == 1 {
			if err := p1.Release(); err != nil {
				t.Error(err)
			}
		}
	}
	afterOpenHook.Store(&hook)
	p2, err := Acquire(path)
	afterOpenHook.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p2.Release() }()
	if opens < 2 {
		t.Fatalf("Acquire did not retry (opens=%d)", opens)
	}
	if same, err := sameFile(p2.File(), path); err != nil || !same {
		t.Fatalf("lock is not on the file path names: %v %v", same, err)
	}
	pid, held, err := Read(path)
	if err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read = %d, %v, %v", pid, held, err)
	}
}

func TestLockHeldByOtherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	child := spawnHelper(t, envHold, path)
	waitFor(t, "child lock", func() bool {
		_, held, _ := Read(path)
		return held
	})
	pid, held, err := Read(path)
	if err != nil || !held || pid != child {
		t.Fatalf("Read = %d, %v, %v; want %d held", pid, held, err, child)
	}
	_, err = Acquire(path)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != child || !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire while child holds: %v", err)
	}

	// The kernel drops the lock when the holder dies, however it dies.
	_ = syscall.Kill(child, syscall.SIGKILL)
	if ws := mustWait(t, child); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v", ws)
	}
	pid, held, err = Read(path)
	if err != nil || held || pid != child {
		t.Fatalf("Read after death = %d, %v, %v; want stale %d", pid, held, err, child)
	}
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Release() }()
	if pid, held, _ := Read(path); !held || pid != os.Getpid() {
		t.Fatalf("Read after takeover = %d, %v", pid, held)
	}
}

func TestKeepAcrossExec(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "webui.pid")
	child := spawnHelper(t, envExec, path)
	waitFor(t, "child lock", func() bool {
		_, held, _ := Read(path)
		return held
	})
	// From the first Acquire through the exec and Inherit, the lock never
	// lapses and the pid never changes.
	marker := path + ".inherited"
	reads := 0
	deadline := time.Now().Add(8 * time.Second)
	for {
		_, merr := os.Stat(marker)
		pid, held, err := Read(path)
		reads++
		if err != nil || !held || pid != child {
			t.Fatalf("read %d: Read = %d, %v, %v; want %d held", reads, pid, held, err, child)
		}
		if merr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the exec'd image")
		}
		time.Sleep(time.Millisecond)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "adopted" {
		t.Fatalf("new image: %q, want adopted (with FD_CLOEXEC set again)", b)
	}
	if reads < 10 {
		t.Logf("only %d reads across the exec", reads)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire after exec: %v", err)
	}
}

func TestInheritFallback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "webui.pid")
	other, err := os.Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	// A fd on another file, a closed fd and garbage all fall back to Acquire
	// and leave that fd alone.
	for _, v := range []string{"", "garbage", "-1", "999999", strconv.Itoa(int(other.Fd()))} {
		p, err := Inherit(path, func(string) string { return v })
		if err != nil {
			t.Fatalf("Inherit(%q): %v", v, err)
		}
		if int(p.File().Fd()) == int(other.Fd()) {
			t.Fatalf("Inherit(%q) adopted an unrelated fd", v)
		}
		if err := p.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Stat(); err != nil {
		t.Fatalf("unrelated fd was touched: %v", err)
	}

	// In-process adoption: KeepAcrossExec, then Inherit a dup of the fd (a
	// dup shares the open file description, and so the lock, as exec does).
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := p.KeepAcrossExec()
	if err != nil {
		t.Fatal(err)
	}
	name, v, _ := strings.Cut(kv, "=")
	if name != handoff.PIDFileFD || v != strconv.Itoa(int(p.File().Fd())) || cloexec(p.File()) {
		t.Fatalf("KeepAcrossExec = %q, cloexec %v", kv, cloexec(p.File()))
	}
	if err := p.CloseOnExec(); err != nil || !cloexec(p.File()) {
		t.Fatalf("CloseOnExec: %v", err)
	}
	nfd, err := unix.Dup(int(p.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Inherit(path, func(k string) string {
		if k == handoff.PIDFileFD {
			return strconv.Itoa(nfd)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if int(q.File().Fd()) != nfd || !cloexec(q.File()) {
		t.Fatalf("Inherit did not adopt fd %d (got %d)", nfd, q.File().Fd())
	}
	_ = p.File().Close() // drop the "old image's" fd without removing the file
	if pid, held, err := Read(path); err != nil || !held || pid != os.Getpid() {
		t.Fatalf("Read after adoption = %d, %v, %v", pid, held, err)
	}
	if err := q.Release(); err != nil {
		t.Fatal(err)
	}
	if _, held, err := Read(path); held || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Release: held %v, %v", held, err)
	}
}
