package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Access lines wait in a buffer, but none is lost across an exec restart
// (the old image flushes before it is replaced) or a clean stop. The flush
// interval is an hour here, so only those explicit flushes can write them.
func TestAccessLogSurvivesExecRestartAndStop(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, binary)
	addr := freeAddr(t)
	p := start(t, opts{bin: bin, env: []string{"WEBUI_TEST_LOG_FLUSH=1h"},
		args: []string{"--addr", addr, "--restart-mode", "exec", "--log-stderr", "off", "--access-log", "on"}})
	_, h0 := p.health(false)
	var before []string
	for i := 0; i < 3; i++ {
		path := fmt.Sprintf("/probe-before-exec-%d", i)
		before = append(before, path)
		if _, _, err := p.get(path); err != nil {
			t.Fatal(err)
		}
	}
	if log := p.logFile(); strings.Contains(log, before[0]) {
		t.Fatalf("the line is on disk before any flush: the test cannot tell flushes apart")
	}
	p.signal(syscall.SIGUSR2)
	h := waitHealth(t, addr, 10*time.Second, func(h health) bool { return !h.StartedAt.Equal(h0.StartedAt) })
	if h.PID != h0.PID {
		t.Fatalf("not an exec restart: pid %d, was %d", h.PID, h0.PID)
	}
	log := p.logFile()
	for _, path := range before {
		if n := strings.Count(log, `"path":"`+path+`"`); n != 1 {
			t.Errorf("%s: %d access lines after the exec restart, want 1", path, n)
		}
	}
	if _, _, err := p.get("/probe-after-exec"); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGTERM)
	if code, _ := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(p.logFile(), `"path":"/probe-after-exec"`); n != 1 {
		t.Fatalf("after a clean stop: %d access lines for the last request, want 1\n%s", n, p.logFile())
	}
}
