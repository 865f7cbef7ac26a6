package apps

import "time"

// backoff is the wait before the next start after n failures in a row: 1s,
// 2s, 4s, ... up to max. (The watchdog's ctl.Backoff starts at no wait and
// lives in a package that imports the server, which imports this one.)
func backoff(n int, base, max time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := base
	for k := 1; k < n && d < max; k++ {
		d *= 2
	}
	return min(d, max)
}
