package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/diag"
)

// FreezeWindow is how far back the freezes check looks.
const FreezeWindow = 24 * time.Hour

// Fixes for freezes and sleeps on Android.
const (
	fixWakeLock = "run `termux-wake-lock` (the Termux:Boot script does), so the phone does not sleep with webui"
	fixFreezer  = "run `termux-wake-lock`; set Termux's battery usage to \"Unrestricted\" (Settings > Apps > Termux > Battery); " +
		"on Android 14+ also `adb shell settings put global cached_apps_freezer disabled`"
)

type freezesInput struct {
	Freezes []diag.Freeze // of every lifetime
	Now     time.Time
	Android bool
	Err     error
}

func checkFreezes(_ context.Context, p *Probes) Check {
	in := freezesInput{Now: p.Now(), Android: p.Platform.Android.Value}
	lts, err := p.Lifetimes()
	in.Err = err
	for _, lt := range lts {
		in.Freezes = append(in.Freezes, lt.Freezes...)
	}
	return decideFreezes(in)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func decideFreezes(in freezesInput) Check {
	c := Check{ID: "freezes", Status: OK, Value: 0.0}
	if in.Err != nil {
		c.Status, c.Summary = Warn, "cannot read the lifetime records: "+in.Err.Error()
		c.Fix = "check that the state dir is readable (`webui config`)"
		return c
	}
	var longest, last *diag.Freeze
	frozen, slept := 0, 0
	for i := range in.Freezes {
		f := &in.Freezes[i]
		if in.Now.Sub(f.At) > FreezeWindow || f.DurationS < diag.FreezeMin.Seconds() {
			continue
		}
		if f.Kind == diag.FreezeKindSleep {
			slept++
		} else {
			frozen++
		}
		if longest == nil || f.DurationS > longest.DurationS {
			longest = f
		}
		if last == nil || f.At.After(last.At) {
			last = f
		}
	}
	if longest == nil {
		c.Summary = "no freeze or sleep of 2 s or more in the last day"
		return c
	}
	c.Status, c.Value = Warn, longest.DurationS
	var counts []string
	if frozen > 0 {
		counts = append(counts, plural(frozen, "freeze", "freezes"))
	}
	if slept > 0 {
		counts = append(counts, plural(slept, "sleep", "sleeps"))
	}
	c.Summary = fmt.Sprintf("%s in the last day, longest %s; last: %s",
		strings.Join(counts, " and "), diag.SpanWords(longest.DurationS), diag.FreezeWords(*last, in.Android))
	switch {
	case in.Android && frozen > 0:
		c.Fix = fixFreezer
	case in.Android:
		c.Fix = fixWakeLock
	case frozen > 0:
		c.Fix = "something stopped the process (SIGSTOP, `docker pause`, a cgroup freezer): stop pausing it, or expect it not to answer meanwhile"
	default:
		c.Fix = "the machine suspended; keep it awake while webui must answer (for example `systemd-inhibit`)"
	}
	return c
}
