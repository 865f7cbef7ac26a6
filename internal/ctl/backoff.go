package ctl

import "time"

// Backoff is the watchdog's schedule for a crash loop: no wait after one
// failure (a lone early death, such as a kill -9 soon after a start, comes
// back at once), then Base, 2×Base, 4×Base, ... never more than Max.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// DefaultBackoff starts at 1s and caps at 5 minutes.
var DefaultBackoff = Backoff{Base: time.Second, Max: 5 * time.Minute}

// Delay is the wait before the next start after n consecutive failures
// (starts that failed, or servers that died before they were stable).
func (b Backoff) Delay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := b.Base
	for k := 2; k < n && d < b.Max; k++ {
		d *= 2
	}
	return min(d, b.Max)
}

// crashLoopCounts is the crash-loop rule: a server that dies before it was
// ready (it never answered), or before it had lived stableAfter, counts as
// one more failure in a row, whoever started it. A server that had been up
// longer was killed from outside (OOM, Android, kill -9): that resets the
// count, so its restart comes without a backoff (on Android, after
// restart_delay). A start that fails counts too (Watchdog.start).
func crashLoopCounts(lived time.Duration, ready bool, stableAfter time.Duration) bool {
	return !ready || lived < stableAfter
}
