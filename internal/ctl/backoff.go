package ctl

import (
	"time"

	"github.com/termux-webui/webui/internal/restart/schedule"
)

// DefaultBackoff is the watchdog's crash-loop schedule: no wait after one
// failure, then 1s doubling to 5 minutes.
var DefaultBackoff = schedule.Backoff{Base: time.Second, Max: 5 * time.Minute, Free: 1}

// crashLoopCounts is the crash-loop rule: a server that dies before it was
// ready (it never answered), or before it had lived stableAfter, counts as
// one more failure in a row, whoever started it. A server that had been up
// longer was killed from outside (OOM, Android, kill -9): that resets the
// count, so its restart comes without a backoff (on Android, after
// restart_delay). A start that fails counts too (Watchdog.start).
func crashLoopCounts(lived time.Duration, ready bool, stableAfter time.Duration) bool {
	return !ready || lived < stableAfter
}
