package apps

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	exited := func(code int) *syscall.WaitStatus { ws := syscall.WaitStatus(code << 8); return &ws }
	signaled := func(sig syscall.Signal) *syscall.WaitStatus { ws := syscall.WaitStatus(sig); return &ws }
	for _, tc := range []struct {
		name    string
		ws      *syscall.WaitStatus
		reason  string
		android bool
		lived   time.Duration
		verdict string
		code    int // -1: none
		signal  string
		hint    string
	}{
		{"clean", exited(0), "", false, time.Minute, VerdictCleanExit, 0, "", ""},
		{"crash", exited(3), "", false, time.Minute, VerdictCrash, 3, "", ""},
		{"term", signaled(syscall.SIGTERM), "", false, time.Minute, VerdictSignal, -1, "SIGTERM", ""},
		{"segv", signaled(syscall.SIGSEGV), "", false, time.Minute, VerdictSignal, -1, "SIGSEGV", ""},
		{"sigkill", signaled(syscall.SIGKILL), "", false, time.Second, VerdictKilled, -1, "SIGKILL", "settings_enable_monitor_phantom_procs"},
		{"sigkill on android, late", signaled(syscall.SIGKILL), "", true, time.Minute, VerdictKilled, -1, "SIGKILL", "Disable child process restrictions"},
		{"sigkill on android, early", signaled(syscall.SIGKILL), "", true, time.Second, VerdictRestartWindow, -1, "SIGKILL", "restart_delay"},
		{"unobserved", nil, "", false, time.Minute, VerdictUnobserved, -1, "", ""},
		{"stopped by us with KILL", signaled(syscall.SIGKILL), "stop", false, time.Minute, VerdictStopped, -1, "SIGKILL", ""},
		{"restart", signaled(syscall.SIGTERM), "restart", false, time.Minute, VerdictStopped, -1, "SIGTERM", ""},
		{"unhealthy", signaled(syscall.SIGTERM), "health", false, time.Minute, VerdictUnhealthy, -1, "SIGTERM", ""},
		{"slow start", exited(1), "start_timeout", false, time.Minute, VerdictStartTimeout, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt := Lifetime{LivedS: tc.lived.Seconds()}
			judge(&lt, tc.ws, tc.reason, tc.android, 10*time.Second)
			if lt.Verdict != tc.verdict || lt.Signal != tc.signal || (tc.code < 0) != (lt.Code == nil) || lt.Code != nil && *lt.Code != tc.code {
				t.Fatalf("%+v", lt)
			}
			if !strings.Contains(lt.Hint, tc.hint) || lt.Summary == "" || tc.hint == "" && lt.Hint != "" {
				t.Fatalf("hint %q summary %q", lt.Hint, lt.Summary)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	d := newDirs(t)
	s := &Supervisor{cfg: d.config()}
	s.log = s.cfg.Log
	t0 := time.Now().Add(-time.Hour)
	s.appendLife("x", Lifetime{PID: 1 << 22, StartTicks: 5, StartedAt: t0})
	end := t0.Add(time.Minute)
	code := 3
	s.appendLife("x", Lifetime{PID: 1 << 22, StartTicks: 5, StartedAt: t0, EndedAt: &end, LivedS: 60, Code: &code, Verdict: VerdictCrash})
	s.appendLife("x", Lifetime{PID: 1<<22 + 1, StartTicks: 9, StartedAt: end})
	h := s.History("x")
	if len(h) != 2 || h[0].Verdict != VerdictUnobserved || h[1].Verdict != VerdictCrash || *h[1].Code != 3 ||
		!h[1].StartedAt.Equal(t0) || !h[1].EndedAt.Equal(end) || h[1].Signal != "" {
		t.Fatalf("%+v", h)
	}
	// A signal's exit and an unobserved end read back as they were judged.
	killed := Lifetime{PID: 1 << 22, StartTicks: 11, StartedAt: end, EndedAt: &end}
	judge(&killed, &[]syscall.WaitStatus{syscall.WaitStatus(syscall.SIGKILL)}[0], "", false, 0)
	s.appendLife("y", killed)
	gone := Lifetime{PID: 1 << 22, StartTicks: 12, StartedAt: end, EndedAt: &end}
	judge(&gone, nil, "stop", false, 0)
	s.appendLife("y", gone)
	if h := s.History("y"); len(h) != 2 || h[1].Signal != "SIGKILL" || h[1].Code != nil || h[1].Verdict != VerdictKilled ||
		h[1].Hint == "" || h[0].Signal != "" || h[0].Code != nil || h[0].Verdict != VerdictStopped || h[0].Reason != "stop" {
		t.Fatalf("%+v", h)
	}
	// A torn or foreign line is skipped, not fatal.
	f, _ := os.OpenFile(filepath.Join(d.state, "lifetimes", "apps", "x.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("{\"event\":\"start\",\"pid\n")
	f.Close()
	if h := History(d.state, "x"); len(h) != 2 {
		t.Fatalf("after a torn line: %+v", h)
	}
	if h := History(d.state, "none"); len(h) != 0 {
		t.Fatalf("no app: %+v", h)
	}
}
