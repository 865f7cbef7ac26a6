package schedule

import "time"

// Backoff is a crash loop's schedule: the wait before the next start after
// n failures in a row is none for the first Free of them, then Base,
// 2×Base, 4×Base, ... never more than Max. The watchdog forgives one
// failure (a lone early death, such as a kill -9 soon after a start, comes
// back at once); a hosted app's first failure waits Base.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
	Free int
}

// Delay is the wait before the next start after n failures in a row.
func (b Backoff) Delay(n int) time.Duration {
	if n <= b.Free {
		return 0
	}
	d := b.Base
	for k := b.Free + 1; k < n && d < b.Max; k++ {
		d *= 2
	}
	return min(d, b.Max)
}
