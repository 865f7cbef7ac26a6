package sigahead

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary, run as a child, report instead of test.
const helperEnv = "SIGAHEAD_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

// helper: was the Set begun at init, and does a SIGTERM then wait in its
// channel? Exit 0 when it does; a process that did not register dies of
// the SIGTERM.
func helper() int {
	if early == nil {
		fmt.Println("not registered")
	} else {
		fmt.Println("registered")
	}
	s := Take()
	s.Wait()
	if early == nil {
		// A command: nothing must catch SIGTERM; undo Take's registration
		// so that the default action applies.
		signal.Stop(s.Stop)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-s.Stop:
		fmt.Println("caught")
		return 0
	case <-time.After(5 * time.Second):
		fmt.Println("SIGTERM neither caught nor fatal")
		return 3
	}
}

// run starts the test binary under the name webui with args.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "webui")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(link, args...)
	// No lifetime record: firstline takes this child for a server.
	c.Env = append(os.Environ(), helperEnv+"=1", "WEBUI_DIAGNOSTICS=off")
	out, err := c.Output()
	return string(out), err
}

// TestServerRegistersAtInit: `webui serve` has its signals registered from
// package initialisation, and a SIGTERM waits for the server to read it.
func TestServerRegistersAtInit(t *testing.T) {
	out, err := run(t, "serve")
	if err != nil || out != "registered\ncaught\n" {
		t.Fatalf("webui serve: %v, printed %q; want registered and caught", err, out)
	}
}

// TestCommandKeepsDefaults: any other command registers nothing at init,
// so SIGTERM (and Ctrl-C) still end it.
func TestCommandKeepsDefaults(t *testing.T) {
	out, err := run(t, "diagnose")
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("webui diagnose: %v, printed %q; want death by SIGTERM", err, out)
	}
	ws, _ := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM || out != "not registered\n" {
		t.Fatalf("webui diagnose: %v, printed %q; want not registered, then killed by SIGTERM", err, out)
	}
}

// TestTakeOnce: the Set begun at init goes to one caller; later callers get
// their own registration.
func TestTakeOnce(t *testing.T) {
	defer func(e *Set) { early = e; taken.Store(false) }(early)
	early = Register()
	taken.Store(false)
	first, second := Take(), Take()
	if first != early || second == early {
		t.Fatalf("Take returned %p then %p; the early Set is %p", first, second, early)
	}
	for _, s := range []*Set{first, second} {
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		defer signal.Stop(s.Trap)
		defer signal.Stop(s.Stop)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	for i, s := range []*Set{first, second} {
		select {
		case got := <-s.Trap:
			if got != syscall.SIGUSR1 {
				t.Errorf("Set %d: Trap got %v", i, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Set %d: SIGUSR1 never reached Trap", i)
		}
	}
}
