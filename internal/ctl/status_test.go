package ctl

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		held, answering, stopped, ran bool
		want                          string
		code                          int
	}{
		{held: true, answering: true, ran: true, want: StateRunning, code: 0},
		{held: true, answering: true, stopped: true, ran: true, want: StateRunning, code: 0}, // started by hand after a stop
		{held: true, ran: true, want: StateUnhealthy, code: 4},
		{stopped: true, ran: true, want: StateStopped, code: 3},
		{want: StateStopped, code: 3}, // never started
		{ran: true, want: StateDead, code: 1},
	} {
		got := classify(tc.held, tc.answering, tc.stopped, tc.ran)
		if got != tc.want {
			t.Errorf("classify(held=%v answering=%v stopped=%v ran=%v) = %s, want %s", tc.held, tc.answering, tc.stopped, tc.ran, got, tc.want)
		}
		if code := (&Status{State: got}).ExitCode(); code != tc.code {
			t.Errorf("%s: exit code %d, want %d", got, code, tc.code)
		}
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) health.Addr {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, err := health.ParseAddr(ln.Addr().String())
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func testInstance(t *testing.T) *Instance {
	dir := t.TempDir()
	i := &Instance{Addr: closedAddr(t), RunDir: filepath.Join(dir, "run"), LogDir: filepath.Join(dir, "log"), StateDir: filepath.Join(dir, "state")}
	i.PIDFile = filepath.Join(i.RunDir, "webui.pid")
	for _, d := range []string{i.RunDir, i.LogDir, string(paths.State(i.StateDir).Lifetimes())} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return i
}

// writeRecord writes a lifetime record of a server that got ready and then
// vanished without an exit event (a kill -9).
func writeRecord(t *testing.T, i *Instance, pid int, started time.Time) {
	id := started.UTC().Format("20060102T150405.000000Z") + "-" + strconv.Itoa(pid)
	rec := `{"event":"first-line","t":"` + started.UTC().Format(time.RFC3339Nano) + `","pid":` + strconv.Itoa(pid) + `,"version":"test"}` + "\n" +
		`{"event":"installed","t":"` + started.UTC().Format(time.RFC3339Nano) + `"}` + "\n" +
		`{"event":"ready","t":"` + started.UTC().Format(time.RFC3339Nano) + `","addr":"` + i.Addr.String() + `"}` + "\n"
	if err := os.WriteFile(paths.State(i.StateDir).Lifetimes().Record(id), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestStatusStates(t *testing.T) {
	ctx := context.Background()
	i := testInstance(t)
	if s := i.Status(ctx, time.Second); s.State != StateStopped || s.LastDeath != nil {
		t.Errorf("never started: %+v", s)
	}

	// A gone pid (beyond pid_max) that left a record: it died.
	writeRecord(t, i, 1<<30, time.Now().Add(-time.Minute))
	s := i.Status(ctx, time.Second)
	if s.State != StateDead || s.ExitCode() != StatusDead {
		t.Errorf("after a death: state %s", s.State)
	}
	if s.LastDeath == nil || s.LastDeath.Verdict != diag.KilledUntraced {
		t.Errorf("last death: %+v", s.LastDeath)
	}

	// ctl stop's marker: stopped on purpose.
	if _, err := i.Stop(ctx, time.Second, "ctl stop"); err != nil {
		t.Fatal(err)
	}
	s = i.Status(ctx, time.Second)
	if s.State != StateStopped || s.StoppedAt == nil || s.StoppedBy == "" {
		t.Errorf("after ctl stop: %+v", s)
	}

	// A live holder of the pid file whose /health does not answer.
	pf, err := proc.Acquire(i.PIDFile)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Release()
	s = i.Status(ctx, 200*time.Millisecond)
	if s.State != StateUnhealthy || s.PID != os.Getpid() || s.ExitCode() != StatusUnhealthy {
		t.Errorf("held but silent: %+v", s)
	}
}
