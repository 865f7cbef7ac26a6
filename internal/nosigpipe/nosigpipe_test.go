package nosigpipe_test

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/termux-webui/webui/internal/nosigpipe"
	"github.com/termux-webui/webui/internal/proc"
)

// A child that webui starts gets SIGPIPE's default action, as if webui
// had never ignored it: a shell pipeline in a hosted app ends quietly
// when its reader goes, instead of every writer failing with EPIPE.
func TestChildGetsDefaultSIGPIPE(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pid, err := proc.Spawn(sh, []string{"sh", "-c", "grep '^SigIgn:' /proc/self/status"}, proc.Attr{Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, 0, nil)
	mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "SigIgn:")), 16, 64)
	if err != nil {
		t.Fatalf("child's status line %q: %v", line, err)
	}
	if mask&(1<<(syscall.SIGPIPE-1)) != 0 {
		t.Fatalf("the child inherited SIGPIPE ignored (SigIgn %016x)", mask)
	}
	if err := nosigpipe.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("NOSIGPIPE_CHILD") == "1" {
		// As early as main can be: the registration may still be under way.
		_, early := os.Stdout.Write([]byte("x"))
		nosigpipe.Wait()
		_, late := os.Stdout.Write([]byte("x"))
		if early == nil || late == nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A process whose stdout reader is gone survives its writes there, from
// its first moment on: they fail with EPIPE instead of killing it.
func TestBrokenStdoutFromTheStart(t *testing.T) {
	for i := 0; i < 20; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		c := exec.Command(os.Args[0], "-test.run", "^$")
		c.Env = append(os.Environ(), "NOSIGPIPE_CHILD=1")
		c.Stdout = w
		err = c.Run()
		w.Close()
		if err != nil {
			t.Fatalf("run %d: the child with a broken stdout: %v", i, err)
		}
	}
}
