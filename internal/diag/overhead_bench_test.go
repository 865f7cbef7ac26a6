package diag

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/firstline"
	"github.com/termux-webui/webui/internal/paths"
)

// BenchmarkFirstLine does what firstline's init does for a server process
// (it cannot be re-run in-process): mkdir -p the lifetimes dir, create the
// record, read /proc/self/stat and the executable path, and write one line.
func BenchmarkFirstLine(b *testing.B) {
	dir := string(paths.State(b.TempDir()).Lifetimes())
	i := 0
	for b.Loop() {
		i++
		started := time.Now()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		id := started.UTC().Format("20060102T150405.000000Z") + "-" + strconv.Itoa(i)
		f, err := os.OpenFile(dir+"/"+id+".jsonl", os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		exe, _ := os.Executable()
		stat, _ := os.ReadFile("/proc/self/stat")
		var sb strings.Builder
		sb.WriteString(`{"event":"first-line","t":"`)
		sb.WriteString(started.UTC().Format(time.RFC3339Nano))
		sb.WriteString(`","pid":`)
		sb.WriteString(strconv.Itoa(os.Getpid()))
		sb.WriteString(`,"exe":`)
		sb.WriteString(strconv.Quote(exe))
		sb.WriteString(`,"start_ticks":`)
		sb.WriteString(strconv.Itoa(len(stat)))
		sb.WriteString(`,"argv":["webui","serve"]}` + "\n")
		if _, err := f.WriteString(sb.String()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		// firstline keeps it open; closed and removed here so that b.N
		// runs neither pile up fds nor grow the directory past a real one.
		f.Close()
		os.Remove(f.Name())
		b.StartTimer()
	}
}

// BenchmarkInstallPrune50 is Install at a steady state: 50 lifetimes kept
// and one more to prune, so each run opens the record and crash file, sets
// the crash output, lists and prunes the directory, and writes
// "installed".
func BenchmarkInstallPrune50(b *testing.B) {
	rec, recDir := firstline.Record, firstline.RecordDir
	firstline.Record, firstline.RecordDir = nil, ""
	b.Cleanup(func() {
		firstline.Record, firstline.RecordDir = rec, recDir
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		SetPanicReporter(nil)
	})
	state := b.TempDir()
	dir := string(paths.State(state).Lifetimes())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	line := []byte(`{"event":"first-line","t":"2026-01-01T00:00:00Z","pid":1}` + "\n" + `{"event":"exit","reason":"SIGTERM","signal":15,"code":0}` + "\n")
	write := func(n int) {
		id := idOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Second), 1000+n)
		if err := os.WriteFile(filepath.Join(dir, id+".jsonl"), line, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 49; i++ { // with this lifetime's record, 50: the default keep
		write(1000 + i) // newer than every extra one below
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		write(-i) // the oldest: this run prunes it
		b.StartTimer()
		r, err := Install(Options{StateDir: state, Enabled: true, Keep: 50, MaxBytes: 2 << 20})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.f.Close()
		if r.crash != nil {
			r.crash.Close()
		}
		// Each run is a new lifetime: without firstline's record in a test
		// binary, Install starts one (a little more work than adopting it).
		os.Remove(r.Path())
		b.StartTimer()
	}
	b.StopTimer()
	if n, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(n) != 49 {
		b.Fatalf("%d records after pruning, want 49 and this one's, removed", len(n))
	}
}
