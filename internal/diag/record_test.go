package diag

import (
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

func TestTrapSIGPIPERateLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := NewTrap(&Recorder{f: f, started: time.Now()}, nil)
	for i := 0; i < 1000; i++ {
		tr.handle(syscall.SIGPIPE)
	}
	markers := func() []map[string]any {
		b, _ := os.ReadFile(path)
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["name"] == "SIGPIPE" {
				out = append(out, e)
			}
		}
		return out
	}
	if m := markers(); len(m) != 1 || m[0]["count"] != 1.0 || m[0]["action"] != "ignored" {
		t.Fatalf("markers after 1000 SIGPIPEs: %v", m)
	}
	// A minute later the next one writes a marker with the count since.
	tr.mu.Lock()
	tr.lastPipe = tr.lastPipe.Add(-PipeMarkerEvery)
	tr.mu.Unlock()
	tr.handle(syscall.SIGPIPE)
	if m := markers(); len(m) != 2 || m[1]["count"] != 1000.0 {
		t.Fatalf("markers a minute later: %v", m)
	}
}

func TestIntent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if got := TakeIntent(dir); got != "" {
		t.Errorf("no intent: %q", got)
	}
	if err := WriteIntent(dir, "ctl stop"); err != nil {
		t.Fatal(err)
	}
	if got := TakeIntent(dir); got != "ctl stop" {
		t.Errorf("intent = %q", got)
	}
	if got := TakeIntent(dir); got != "" {
		t.Errorf("intent read twice: %q", got)
	}
	// A stale intent is not about this signal.
	if err := WriteIntent(dir, "update"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(paths.Run(dir).Intent(), old, old); err != nil {
		t.Fatal(err)
	}
	if got := TakeIntent(dir); got != "" {
		t.Errorf("stale intent = %q", got)
	}
	if _, err := os.Stat(paths.Run(dir).Intent()); !os.IsNotExist(err) {
		t.Errorf("stale intent not removed: %v", err)
	}
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	spawned := Event{Event: EvHelper, Step: "spawned", PID: 7}
	if err := AppendEvent(path, spawned); err == nil {
		t.Errorf("appended to a record that does not exist")
	}
	if err := AppendEvent("", spawned); err == nil {
		t.Errorf("appended to no record")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := AppendEvent(path, spawned); err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &e); err != nil || e["event"] != EvHelper || e["step"] != "spawned" || e["pid"] != 7.0 ||
		e["helper_pid"] != float64(os.Getpid()) || e["t"] == nil {
		t.Errorf("helper event %s: %v", b, err)
	}
	// An app's event is no helper's step: no helper_pid. ReadEvents gives
	// both back and skips a torn line.
	if err := AppendEvent(path, Event{Event: EvStart, PID: 8, Port: 9}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString("{\"event\":\"exit\",\"pi\n")
	f.Close()
	evs := ReadEvents(path)
	if len(evs) != 2 || evs[1].Event != EvStart || evs[1].Port != 9 || evs[1].HelperPID != 0 || evs[1].T.IsZero() {
		t.Errorf("events read back: %+v", evs)
	}
	if evs := ReadEvents(path + ".none"); evs != nil {
		t.Errorf("no record: %+v", evs)
	}
}

// TestInstalledLine: the hand-built line is what json.Marshal writes.
func TestInstalledLine(t *testing.T) {
	for _, crash := range []bool{true, false} {
		at := time.Date(2026, 12, 1, 15, 4, 5, 123456789, time.UTC)
		want, _ := json.Marshal(Event{Event: EvInstalled, T: at, CrashOutput: crash})
		if got := installedLine(at, crash); string(got) != string(want)+"\n" {
			t.Errorf("crash %v:\n got %s\nwant %s", crash, got, want)
		}
	}
}

func TestReadyLine(t *testing.T) {
	at := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)
	for _, addr := range []string{"127.0.0.1:8787", "[::1]:41000", "", "<odd>&\u00e9"} {
		want, _ := json.Marshal(Event{Event: EvReady, T: at, Addr: addr})
		if got := readyLine(at, addr); string(got) != string(want)+"\n" {
			t.Errorf("%q:\n got %s\nwant %s", addr, got, want)
		}
	}
}

// TestCatchAhead: the signals are registered before anyone reads them, and
// one that comes then waits in its channel instead of killing the process.
func TestCatchAhead(t *testing.T) {
	s := CatchAhead()
	s.Wait()
	defer signal.Stop(s.Trap)
	defer signal.Stop(s.Stop)
	for _, tc := range []struct {
		sig syscall.Signal
		ch  chan os.Signal
	}{{syscall.SIGHUP, s.Trap}, {syscall.SIGUSR1, s.Trap}, {syscall.SIGTERM, s.Stop}, {syscall.SIGUSR2, s.Stop}} {
		if err := syscall.Kill(os.Getpid(), tc.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-tc.ch:
			if got != tc.sig {
				t.Errorf("sent %v, the channel has %v", tc.sig, got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v never reached its channel", tc.sig)
		}
	}
}
