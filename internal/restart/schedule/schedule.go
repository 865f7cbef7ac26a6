// Package schedule is the one definition of a delayed restart's timing,
// which the restart helper, the watchdog, diagnose, the update confirmer
// and `webui ctl restart` must agree on. It imports nothing of webui, so
// any of them can use it.
package schedule

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults: restart_delay, restart_survive and restart_attempts as shipped,
// and the longest wait between two attempts.
const (
	DefaultDelay    = 15 * time.Second
	DefaultSurvive  = 10 * time.Second
	DefaultAttempts = 5
	DefaultCap      = 5 * time.Minute
)

// MinRetry keeps retries from spinning when the delay is 0.
const MinRetry = time.Second

// Lead is how long before its exit the old server starts the processes
// that carry the restart (the restart helper, the update confirmer): a
// process exec'd less than about 2 s before the exit is killed with it on
// Android. The old server serves on meanwhile, so it costs no downtime.
const Lead = 2500 * time.Millisecond

// ConfirmLimit bounds one attempt's wait for /health, whatever Survive is.
const ConfirmLimit = 30 * time.Second

// Schedule is when a delayed restart starts the server and how often it
// tries. Attempt 1 comes Delay after the old server's exit; each later one
// waits twice the previous wait (at least MinRetry, at most Cap) after the
// previous attempt ended. An attempt ends when its server dies, or when it
// has been alive for Survive and answered /health (success).
type Schedule struct {
	Delay    time.Duration
	Survive  time.Duration
	Attempts int
	Cap      time.Duration
}

// New is a Schedule with the default cap; out-of-range values are
// clamped, so every user of a setting gets the same schedule from it.
func New(delay, survive time.Duration, attempts int) Schedule {
	return Schedule{Delay: delay, Survive: survive, Attempts: attempts, Cap: DefaultCap}.norm()
}

// Default is the shipped schedule.
func Default() Schedule { return New(DefaultDelay, DefaultSurvive, DefaultAttempts) }

func (s Schedule) norm() Schedule {
	if s.Delay < 0 {
		s.Delay = 0
	}
	if s.Survive < 0 {
		s.Survive = 0
	}
	if s.Attempts < 1 {
		s.Attempts = 1
	}
	if s.Cap <= 0 {
		s.Cap = DefaultCap
	}
	if s.Delay > s.Cap {
		s.Cap = s.Delay // the first wait is the user's choice; retries are not shorter
	}
	return s
}

// Wait is the wait before attempt n (1-based): Delay for the first, from
// the old server's exit; then from the previous attempt's end.
func (s Schedule) Wait(n int) time.Duration {
	s = s.norm()
	if n <= 1 {
		return s.Delay
	}
	d := s.Delay
	for k := 2; k <= n && d < s.Cap; k++ {
		d = max(2*d, MinRetry)
	}
	return min(d, s.Cap)
}

// AttemptLimit is the longest one attempt can take from its start to its
// verdict.
func (s Schedule) AttemptLimit() time.Duration {
	return max(s.norm().Survive, ConfirmLimit)
}

// Total is the longest a whole delayed restart can take, from the old
// server's exit to the last attempt's verdict.
func (s Schedule) Total() time.Duration {
	s = s.norm()
	var t time.Duration
	for n := 1; n <= s.Attempts; n++ {
		t += s.Wait(n) + s.AttemptLimit()
	}
	return t
}

// Verdict is what one attempt says about the next.
type Verdict int

const (
	// Retry: the server was killed or failed; try again if attempts remain.
	Retry Verdict = iota
	// Done: it survived, or a retry cannot help (or must not: a stop).
	Done
)

// Run carries the schedule out: before attempt n it sleeps until Delay
// after from (the old server's exit) for the first, Wait(n) after the
// previous attempt's end for the others, then calls try. It stops at the
// first Done, after Attempts tries, or when sleep fails (ctx ended); it
// returns how many attempts it made and whether the last said Done.
// now and sleep are the clock (time.Now and a ctx-aware sleep).
func (s Schedule) Run(ctx context.Context, from time.Time, now func() time.Time,
	sleep func(context.Context, time.Duration) error, try func(n int) Verdict) (int, bool, error) {
	s = s.norm()
	prev := from
	for n := 1; n <= s.Attempts; n++ {
		if d := prev.Add(s.Wait(n)).Sub(now()); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return n - 1, false, err
			}
		}
		if try(n) == Done {
			return n, true, nil
		}
		prev = now()
	}
	return s.Attempts, false, nil
}

// Sleep waits d, or until ctx ends (its error is returned): the sleep Run
// takes, and the one every poll loop of the restart's parties uses.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// String is the form `webui restart-helper --schedule` takes.
func (s Schedule) String() string {
	return fmt.Sprintf("delay=%s,survive=%s,attempts=%d,cap=%s", s.Delay, s.Survive, s.Attempts, s.Cap)
}

// Parse reads String's form.
func Parse(v string) (Schedule, error) {
	var s Schedule
	seen := map[string]bool{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return s, fmt.Errorf("schedule %q: want delay=D,survive=D,attempts=N,cap=D", v)
		}
		seen[k] = true
		var err error
		switch k {
		case "delay":
			s.Delay, err = time.ParseDuration(val)
		case "survive":
			s.Survive, err = time.ParseDuration(val)
		case "cap":
			s.Cap, err = time.ParseDuration(val)
		case "attempts":
			s.Attempts, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return s, fmt.Errorf("schedule %q: %v", v, err)
		}
	}
	if len(seen) != 4 {
		return s, fmt.Errorf("schedule %q: want delay=D,survive=D,attempts=N,cap=D", v)
	}
	return s.norm(), nil
}
