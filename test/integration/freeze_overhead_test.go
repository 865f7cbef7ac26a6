package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/diag"
)

// TestFreezeWatchOverhead measures what freeze detection costs an idle
// server: two servers side by side, one with the watcher off
// (WEBUI_TEST_FREEZE_WATCH=off), idle for WEBUI_BENCH_IDLE (5m), nobody
// asking anything. CPU is the exact run time summed over
// /proc/PID/task/*/schedstat. It only logs the figures.
//
//	WEBUI_BENCH=1 go test -run TestFreezeWatchOverhead -v -timeout 30m ./test/integration/
func TestFreezeWatchOverhead(t *testing.T) {
	if os.Getenv("WEBUI_BENCH") != "1" {
		t.Skip("set WEBUI_BENCH=1 to measure the idle cost of freeze detection")
	}
	idle := 5 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("WEBUI_BENCH_IDLE")); err == nil && d > 0 {
		idle = d
	}
	on := start(t, opts{})
	off := start(t, opts{env: []string{"WEBUI_TEST_FREEZE_WATCH=off"}})
	time.Sleep(5 * time.Second) // past startup
	on0, off0 := runNS(t, on.cmd.Process.Pid), runNS(t, off.cmd.Process.Pid)
	sw0, sx0 := switches(t, on.cmd.Process.Pid), switches(t, off.cmd.Process.Pid)
	time.Sleep(idle)
	on1, off1 := runNS(t, on.cmd.Process.Pid), runNS(t, off.cmd.Process.Pid)
	sw1, sx1 := switches(t, on.cmd.Process.Pid), switches(t, off.cmd.Process.Pid)
	perHour := float64(time.Hour) / float64(idle)
	cpuOn, cpuOff := float64(on1-on0)/1e9*perHour, float64(off1-off0)/1e9*perHour
	wakes := float64(time.Hour / diag.FreezeCheckEvery)
	t.Logf("idle %s: with the freeze watcher %.4f CPU-s/h (%.0f context switches/h), without %.4f CPU-s/h (%.0f/h)",
		idle, cpuOn, float64(sw1-sw0)*perHour, cpuOff, float64(sx1-sx0)*perHour)
	t.Logf("freeze watcher: %.4f CPU-s/h, %.1f µs per wake (%.0f wakes/h)", cpuOn-cpuOff, (cpuOn-cpuOff)/wakes*1e6, wakes)
}

// runNS is the CPU time of every thread of pid, in ns.
func runNS(t *testing.T, pid int) int64 {
	t.Helper()
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/schedstat")
	var sum int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		sum += n
	}
	if sum == 0 {
		t.Fatalf("no schedstat for pid %d", pid)
	}
	return sum
}

// switches is voluntary + involuntary context switches over pid's threads.
func switches(t *testing.T, pid int) int64 {
	t.Helper()
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	var sum int64
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			}
		}
	}
	return sum
}
