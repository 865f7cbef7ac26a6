package ctl

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// The helper and the watchdog agree on a delayed restart for any
// restart_attempts and restart_delay: the helper parses the schedule the
// old server wrote, and so does the watchdog from the intent record; the
// watchdog waits for a helper at least as long as the helper's worst run
// (every attempt killed as late as possible), and `ctl restart` waits at
// least as long as the last attempt can take to come up.
func TestHelperAndWatchdogAgree(t *testing.T) {
	check := func(delay, survive time.Duration, attempts int) bool {
		written := schedule.New(delay, survive, attempts) // what the old server writes
		helper, err := schedule.Parse(written.String())   // `restart-helper --schedule`
		if err != nil {
			t.Logf("helper: %v", err)
			return false
		}
		watchdog, err := schedule.Parse(schedule.Intent{Schedule: written.String()}.Schedule)
		if err != nil || helper != watchdog {
			t.Logf("helper %v, watchdog %v (%v)", helper, watchdog, err)
			return false
		}
		// The helper's worst run, on a fake clock.
		now := time.Unix(1e9, 0)
		start := now
		_, _, _ = helper.Run(context.Background(), start, func() time.Time { return now },
			func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil },
			func(int) schedule.Verdict { now = now.Add(helper.AttemptLimit()); return schedule.Retry })
		worst := now.Sub(start)
		if helperWaitLimit(watchdog) < worst || schedule.Lead+watchdog.Total() < worst {
			t.Logf("%v: the watchdog waits %s for a helper that may run %s", watchdog, helperWaitLimit(watchdog), worst)
			return false
		}
		for n := 2; n <= helper.Attempts; n++ {
			if helper.Wait(n) > max(schedule.DefaultCap, helper.Delay) {
				t.Logf("%v: wait before attempt %d is %s, over the cap", helper, n, helper.Wait(n))
				return false
			}
		}
		return true
	}
	for _, c := range []struct {
		delay, survive time.Duration
		attempts       int
	}{
		{15 * time.Second, 10 * time.Second, 5},
		{15 * time.Second, 10 * time.Second, 8}, // the old 2m+16×delay assumed 5 attempts
		{0, time.Second, 20},
		{time.Hour, time.Minute, 3},
		{3 * time.Second, 0, 1},
	} {
		if !check(c.delay, c.survive, c.attempts) {
			t.Errorf("delay %s survive %s attempts %d: disagree", c.delay, c.survive, c.attempts)
		}
	}
	if old := 2*time.Minute + 16*15*time.Second; old >= schedule.New(15*time.Second, 10*time.Second, 8).Total() {
		t.Errorf("the table's 8-attempt case does not exceed the old bound %s", old)
	}
	f := func(delayMs uint32, surviveMs uint16, attempts uint8) bool {
		return check(time.Duration(delayMs%3_600_000)*time.Millisecond, time.Duration(surviveMs)*time.Millisecond, int(attempts%20)+1)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 300, Rand: rand.New(rand.NewSource(7))}); err != nil {
		t.Fatal(err)
	}
}

func TestCrashLoopCounts(t *testing.T) {
	stable := time.Minute
	for _, c := range []struct {
		name  string
		lived time.Duration
		ready bool
		want  bool
	}{
		{"died in startup, never answered", 200 * time.Millisecond, false, true},
		{"never ready, however long it ran", time.Hour, false, true},
		{"answered, died within a second", time.Second, true, true},
		{"answered, died just before stable", stable - time.Millisecond, true, true},
		{"stable, then killed from outside", stable, true, false},
		{"up for days, then kill -9", 72 * time.Hour, true, false},
	} {
		if got := crashLoopCounts(c.lived, c.ready, stable); got != c.want {
			t.Errorf("%s: counts %v, want %v", c.name, got, c.want)
		}
	}
}

// A planted restart intent cannot make the watchdog run another command,
// ask another host or write outside the state dir.
func TestCheckIntentRefusesPlanted(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "webui")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := &Watchdog{inst: &Instance{Exe: exe, Addr: health.Addr{Host: "127.0.0.1", Port: "8787"}, StateDir: filepath.Join(dir, "state"), ServeArgs: []string{"--addr", "127.0.0.1:8787"}}}
	rec := filepath.Join(dir, "state", "lifetimes", "20261201T000000.000000Z-42.jsonl")
	own := []string{exe, "serve", "--addr", "127.0.0.1:8787"}
	for _, c := range []struct {
		name           string
		in             schedule.Intent
		argv           []string
		health, record string
		bad            bool
	}{
		{"as the server writes it", schedule.Intent{Argv: []string{exe, "serve", "--addr", "127.0.0.1:8787"}, Health: "http://127.0.0.1:8787/health", Record: rec},
			[]string{exe, "serve", "--addr", "127.0.0.1:8787"}, "http://127.0.0.1:8787/health", rec, false},
		{"another command", schedule.Intent{Argv: []string{"/bin/sh", "-c", "touch pwned"}, Health: "http://127.0.0.1:8787/health", Record: rec},
			own, "http://127.0.0.1:8787/health", rec, true},
		{"our binary, another subcommand", schedule.Intent{Argv: []string{exe, "update", "apply"}}, own, "http://127.0.0.1:8787/health", "", true},
		{"a remote /health", schedule.Intent{Argv: own, Health: "http://attacker.example:80/health"}, own, "http://127.0.0.1:8787/health", "", true},
		{"a record elsewhere", schedule.Intent{Argv: own, Record: filepath.Join(dir, "state", "lifetimes", "..", "..", "bashrc.jsonl")}, own, "http://127.0.0.1:8787/health", "", true},
		{"not a record", schedule.Intent{Argv: own, Record: "/etc/passwd"}, own, "http://127.0.0.1:8787/health", "", true},
	} {
		argv, addr, record, bad := w.checkIntent(c.in)
		if strings.Join(argv, " ") != strings.Join(c.argv, " ") || addr.URL(health.Path) != c.health || record != c.record || (bad != "") != c.bad {
			t.Errorf("%s: argv %q health %s record %q bad %q", c.name, argv, addr, record, bad)
		}
	}
}
