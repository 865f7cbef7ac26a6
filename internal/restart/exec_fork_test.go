package restart

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/test/harness"
)

// While the exec strategy has the listener and the pid file lock open to
// inheritance, a process started elsewhere in the server (here, a shell
// that lists its own fds) must not get them: it would keep the port bound
// and the lock held for its whole life. It starts once the failed exec has
// been undone, and holds neither.
func TestExecKeepsOtherForksOut(t *testing.T) {
	sh := harness.Tool(t, "sh")
	srv := listen(t)
	pidPath := filepath.Join(t.TempDir(), "webui.pid")
	pf, err := proc.Acquire(pidPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Release()
	type listing struct {
		out string
		err error
	}
	got := make(chan listing, 1)
	var listener string
	exe := testExe(t)
	e := &Engine{Strategy: "exec", Config: testConfig(t), Recorder: newRecorder(t), PIDFile: pf, Log: &logger{}, Exe: exe,
		Args: []string{exe, "serve", "--addr", srv.Addr},
		exec: func(path string, argv, env []string) error {
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, handoff.ListenFD+"="); ok {
					fd, _ := strconv.Atoi(v)
					var st unix.Stat_t
					if err := unix.Fstat(fd, &st); err != nil {
						t.Errorf("listener fd %d: %v", fd, err)
					}
					listener = fmt.Sprintf("socket:[%d]", st.Ino)
				}
			}
			diag.Go("test fork beside the exec", func() {
				var l listing
				cmd := exec.Command(sh, "-c", `ls -l /proc/$$/fd`)
				b, err := cmd.Output()
				l.out, l.err = string(b), err
				got <- l
			})
			// Long enough for the fork to happen here, were it let in.
			time.Sleep(100 * time.Millisecond)
			return syscall.ENOEXEC
		}}
	if _, err := e.Restart(context.Background(), "update", srv.Handoff); !errors.Is(err, syscall.ENOEXEC) {
		t.Fatalf("Restart: %v, want the exec's error", err)
	}
	l := <-got
	if l.err != nil {
		t.Fatalf("the shell beside the exec: %v", l.err)
	}
	if listener == "" {
		t.Fatal("the exec was handed no listener fd")
	}
	if strings.Contains(l.out, listener) || strings.Contains(l.out, pidPath) {
		t.Errorf("a process forked during the exec inherited the listener (%s) or the pid file lock (%s):\n%s", listener, pidPath, l.out)
	}
}
