package proc

import (
	"context"
	"os"
	"strconv"
	"strings"
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
