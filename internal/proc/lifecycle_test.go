package proc

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

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
