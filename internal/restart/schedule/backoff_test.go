package schedule

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 5 * time.Minute, Free: 1}
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
	if got := (Backoff{Base: 3 * time.Second, Max: time.Second, Free: 1}).Delay(2); got != time.Second {
		t.Errorf("a base above the cap: Delay(2) = %s, want the cap", got)
	}
}

// TestBackoffFirstFailureWaits: with no free failure (a hosted app), the
// first one already waits Base.
func TestBackoffFirstFailureWaits(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 5 * time.Minute}
	for n, want := range map[int]time.Duration{0: 0, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestBackoffStartsPerMinute: a crash loop on the watchdog's schedule
// starts the server a handful of times in its first minute, then about
// once every five minutes: never hot.
func TestBackoffStartsPerMinute(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 5 * time.Minute, Free: 1}
	var at time.Duration
	starts := 0
	for n := 0; at < time.Hour; n++ {
		at += b.Delay(n)
		if at < time.Minute {
			starts++
		}
	}
	if starts > 7 {
		t.Errorf("%d starts in the first minute", starts)
	}
	var total time.Duration
	for n := 0; n < 30; n++ {
		total += b.Delay(n)
	}
	if perHour := 30 * time.Hour / total; perHour > 20 {
		t.Errorf("a long crash loop starts %d times an hour", perHour)
	}
}
