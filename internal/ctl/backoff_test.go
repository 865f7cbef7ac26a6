package ctl

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 5 * time.Minute}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{-1, 0}, {0, 0}, {1, 0}, // one failure is not a loop: the next start is immediate
		{2, time.Second}, {3, 2 * time.Second}, {4, 4 * time.Second}, {5, 8 * time.Second},
		{10, 256 * time.Second}, {11, 5 * time.Minute}, {12, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		if got := b.Delay(tc.n); got != tc.want {
			t.Errorf("Delay(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
	if got := (Backoff{Base: 3 * time.Second, Max: time.Second}).Delay(2); got != time.Second {
		t.Errorf("a base above the cap: Delay(2) = %s, want the cap", got)
	}
}

// TestBackoffStartsPerMinute: a crash loop on the default schedule starts
// the server a handful of times in its first minute, then about once every
// five minutes: never hot.
func TestBackoffStartsPerMinute(t *testing.T) {
	var at time.Duration
	starts := 0
	for n := 0; at < time.Hour; n++ {
		at += DefaultBackoff.Delay(n)
		if at < time.Minute {
			starts++
		}
	}
	if starts > 7 {
		t.Errorf("%d starts in the first minute", starts)
	}
	var total time.Duration
	for n := 0; n < 30; n++ {
		total += DefaultBackoff.Delay(n)
	}
	if perHour := 30 * time.Hour / total; perHour > 20 {
		t.Errorf("a long crash loop starts %d times an hour", perHour)
	}
}

func TestWatchdogDue(t *testing.T) {
	t0 := time.Now()
	inst := &Instance{RestartDelay: 15 * time.Second}
	for _, tc := range []struct {
		name     string
		android  bool
		crashes  int
		long     bool
		lastExit time.Time
		want     time.Time
	}{
		{name: "first start, not Android: now", lastExit: t0, want: time.Time{}},
		{name: "Android: restart_delay after the exit", android: true, lastExit: t0, want: t0.Add(15 * time.Second)},
		{name: "Android, no exit known", android: true, want: time.Time{}},
		{name: "one early death: now", crashes: 1, lastExit: t0, want: time.Time{}},
		{name: "crash loop: backoff", crashes: 3, lastExit: t0, want: t0.Add(2 * time.Second)},
		{name: "Android and a long backoff: the later", android: true, crashes: 6, lastExit: t0, want: t0.Add(16 * time.Second)},
		{name: "config error: the cap", crashes: 1, long: true, lastExit: t0, want: t0.Add(5 * time.Minute)},
	} {
		inst.Android = tc.android
		w := NewWatchdog(inst, WatchdogOptions{})
		w.crashes, w.long, w.lastExit, w.lastFail = tc.crashes, tc.long, tc.lastExit, t0
		got, why := w.due()
		if !got.Equal(tc.want) {
			t.Errorf("%s: due %s (%s), want %s", tc.name, got.Sub(t0), why, tc.want.Sub(t0))
		}
		if !got.IsZero() && why == "" {
			t.Errorf("%s: no reason given", tc.name)
		}
	}
}
