package schedule

import (
	"context"
	"math/rand"
	"testing"
	"testing/quick"
	"time"
)

func TestWait(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		sched Schedule
		want  []time.Duration
	}{
		{New(15*s, 10*s, 8), []time.Duration{15 * s, 30 * s, 60 * s, 120 * s, 240 * s, 300 * s, 300 * s, 300 * s}},
		{New(0, s, 5), []time.Duration{0, s, 2 * s, 4 * s, 8 * s}},
		{New(3*s, s, 1), []time.Duration{3 * s}},
		{Schedule{Delay: 10 * s, Attempts: 4, Cap: 25 * s}, []time.Duration{10 * s, 20 * s, 25 * s, 25 * s}},
		// A delay longer than the cap is the user's choice; retries are not shorter.
		{New(10*time.Minute, s, 3), []time.Duration{10 * time.Minute, 10 * time.Minute, 10 * time.Minute}},
	} {
		for n, want := range c.want {
			if got := c.sched.Wait(n + 1); got != want {
				t.Errorf("%v: Wait(%d) = %s, want %s", c.sched, n+1, got, want)
			}
		}
	}
}

// fakeClock records what Run sleeps.
type fakeClock struct {
	t      time.Time
	sleeps []time.Duration
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	return nil
}

// Every attempt fails after taking as long as an attempt can: the run
// lasts exactly Total, makes Attempts tries, and sleeps Wait(n) each time.
func TestRunWorstCaseIsTotal(t *testing.T) {
	f := func(delayMs uint32, surviveMs uint16, attempts uint8) bool {
		s := New(time.Duration(delayMs%600_000)*time.Millisecond, time.Duration(surviveMs)*time.Millisecond, int(attempts%20)+1)
		c := &fakeClock{t: time.Unix(1e9, 0)}
		start := c.t
		var tries int
		n, done, err := s.Run(context.Background(), start, c.now, c.sleep, func(int) Verdict {
			tries++
			c.t = c.t.Add(s.AttemptLimit())
			return Retry
		})
		if err != nil || done || n != s.Attempts || tries != s.Attempts || c.t.Sub(start) != s.Total() {
			t.Logf("%v: n %d tries %d elapsed %s total %s", s, n, tries, c.t.Sub(start), s.Total())
			return false
		}
		for i, d := range c.sleeps {
			if d != s.Wait(i+1) || d > max(s.Cap, s.Delay) {
				t.Logf("%v: sleep %d = %s, Wait = %s", s, i+1, d, s.Wait(i+1))
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 500, Rand: rand.New(rand.NewSource(1))}); err != nil {
		t.Fatal(err)
	}
}

// Run stops at the first Done, and the first attempt counts from the
// exit, not from when Run was called.
func TestRunStopsAndCountsFromExit(t *testing.T) {
	s := New(10*time.Second, time.Second, 5)
	c := &fakeClock{t: time.Unix(1e9, 0)}
	exit := c.t.Add(-4 * time.Second) // the death was noticed 4 s late
	n, done, _ := s.Run(context.Background(), exit, c.now, c.sleep, func(n int) Verdict {
		if n == 2 {
			return Done
		}
		return Retry
	})
	if n != 2 || !done || c.sleeps[0] != 6*time.Second || c.sleeps[1] != 20*time.Second {
		t.Fatalf("n %d done %v sleeps %v", n, done, c.sleeps)
	}
}

func TestParseString(t *testing.T) {
	f := func(delayMs uint32, surviveMs uint32, attempts uint8) bool {
		s := New(time.Duration(delayMs)*time.Millisecond, time.Duration(surviveMs)*time.Millisecond, int(attempts%20)+1)
		got, err := Parse(s.String())
		return err == nil && got == s
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "delay=1s", "delay=1s,survive=1s,attempts=x,cap=1s", "delay=1s,delay=1s,attempts=1,cap=1s", "delay=1s,survive=1s,attempts=1,cap=1s,x=1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Default().String())
	f.Fuzz(func(t *testing.T, v string) {
		s, err := Parse(v)
		if err != nil {
			return
		}
		if again, err := Parse(s.String()); err != nil || again != s {
			t.Fatalf("%q: %v round-trips to %v (%v)", v, s, again, err)
		}
	})
}

func TestIntentAndLock(t *testing.T) {
	dir := t.TempDir()
	if _, ok := ReadIntent(dir); ok {
		t.Fatal("intent in an empty dir")
	}
	in := Intent{PID: 42, By: ByHelper, Schedule: Default().String(), Argv: []string{"/bin/webui", "serve"}}
	if err := WriteIntent(dir, in); err != nil {
		t.Fatal(err)
	}
	if got, ok := ReadIntent(dir); !ok || got.PID != 42 || got.By != ByHelper {
		t.Fatalf("read %+v %v", got, ok)
	}
	RemoveIntent(dir, 7) // not ours: stays
	if _, ok := ReadIntent(dir); !ok {
		t.Fatal("removed another pid's intent")
	}
	RemoveIntent(dir, 42)
	if _, ok := ReadIntent(dir); ok {
		t.Fatal("intent left")
	}
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(dir); err != ErrBusy || !Held(dir) {
		t.Fatalf("second lock: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		l2, err := WaitLock(dir)
		l2.Release()
		got <- err
	}()
	select {
	case <-got:
		t.Fatal("WaitLock returned while the lock was held")
	case <-time.After(50 * time.Millisecond):
	}
	l.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
