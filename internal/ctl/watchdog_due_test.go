package ctl

import (
	"testing"
	"time"
)

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
