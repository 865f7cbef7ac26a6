package diag

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/paths"
)

// The Install tests change firstline's globals and the process's crash
// output, so they run one at a time (no t.Parallel).

// installFrom sets up firstline as if it had written its marker in dir,
// and undoes everything Install changes when the test ends.
func installFrom(t *testing.T, dir string) {
	t.Helper()
	rec, recDir, err := firstline.Record, firstline.RecordDir, firstline.Err
	t.Cleanup(func() {
		firstline.Record, firstline.RecordDir, firstline.Err = rec, recDir, err
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		SetPanicReporter(nil)
	})
	if dir == "" {
		firstline.Record, firstline.RecordDir = nil, ""
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, firstline.ID+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(ev(EvFirstLine, firstline.Started, "pid", firstline.PID))
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	firstline.Record, firstline.RecordDir = f, dir
}

func recordEvents(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad line %q", line)
		}
		names = append(names, e["event"].(string))
	}
	return names
}

func TestInstallRelativeStateDir(t *testing.T) {
	state := t.TempDir()
	t.Chdir(state)
	installFrom(t, string(paths.State(".").Lifetimes())) // firstline saw --state-dir .
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r.Ready("127.0.0.1:1")
	r.ExitingSignal(syscall.SIGTERM, "", 0)
	if got := strings.Join(recordEvents(t, r.Path()), " "); got != "first-line installed ready exit" {
		t.Errorf("record events: %s", got)
	}
	if _, err := os.Stat(paths.State(state).Lifetimes().Crash(firstline.ID)); !os.IsNotExist(err) {
		t.Errorf("empty crash file kept after a clean exit: %v", err)
	}
}

func TestInstallMovesRecord(t *testing.T) {
	early := string(paths.State(t.TempDir()).Lifetimes())
	installFrom(t, early)
	state := t.TempDir()
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != paths.State(state).Lifetimes().Record(firstline.ID) {
		t.Errorf("record at %s", r.Path())
	}
	if got := strings.Join(recordEvents(t, r.Path()), " "); got != "first-line installed" {
		t.Errorf("moved record: %s", got)
	}
	if names := files(t, early); len(names) != 0 {
		t.Errorf("early copy left: %v", names)
	}
}

func TestInstallDisabledRemovesRecord(t *testing.T) {
	early := string(paths.State(t.TempDir()).Lifetimes())
	installFrom(t, early)
	r, err := Install(Options{StateDir: filepath.Dir(early), Enabled: false})
	if err != nil || r.Path() != "" || r.ID() != "" {
		t.Fatalf("Install disabled: %v %q", err, r.Path())
	}
	r.Ready("x") // a disabled Recorder does nothing
	r.Signal(syscall.SIGUSR1, "x")
	if names := files(t, early); len(names) != 0 {
		t.Errorf("record kept with diagnostics off: %v", names)
	}
}

func TestInstallLate(t *testing.T) {
	installFrom(t, "")
	state := t.TempDir()
	r, err := Install(Options{StateDir: state, Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r.Signal(syscall.SIGUSR1, "stack dump")
	ReportPanic("test", "boom", []byte("goroutine 1 [running]:"))
	b, _ := os.ReadFile(r.Path())
	if !bytes.Contains(b, []byte(`"late":true`)) || !bytes.Contains(b, []byte(`"stacks":"goroutine `)) || !bytes.Contains(b, []byte(`"value":"boom"`)) {
		t.Errorf("late record:\n%.2000s", b)
	}
	lts, err := Load(state, LoadOptions{})
	if err != nil || len(lts) != 1 || lts[0].Verdict != Running || lts[0].Panics != 1 || lts[0].PID != os.Getpid() {
		t.Errorf("Load: %v %+v", err, lts)
	}
}
