package diag

import (
	"context"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EvFreeze is a freeze or sleep the server lived through.
const EvFreeze = "freeze"

// Kinds of Freeze.
const (
	// FreezeKindFreeze: the process was stopped while the clocks ran on
	// (Android's cached-apps freezer, SIGSTOP, a cgroup freezer, docker pause).
	FreezeKindFreeze = "freeze"
	// FreezeKindSleep: the device suspended (CLOCK_MONOTONIC stood still
	// while CLOCK_BOOTTIME ran on), as it does without a wake lock.
	FreezeKindSleep = "sleep"
)

const (
	// FreezeMin is the shortest freeze or sleep worth recording.
	FreezeMin = 2 * time.Second
	// FreezeCheckEvery is how often the watcher wakes. A freeze shows as a
	// late wake; where it began between two wakes is unknown, so its length
	// is off by at most half of this: ±2.5 s. Each wake of an idle Go
	// process costs the runtime ~10 context switches (measured ~0.2 ms of
	// CPU on a shared VM), so this is as rare as that bound allows.
	FreezeCheckEvery = 5 * time.Second
	// freezeLateMin is how late a wake must be to count as a freeze at
	// all: timer jitter on a loaded machine stays far below it.
	freezeLateMin = 500 * time.Millisecond
)

// Freeze is one freeze or sleep: when it began and how long it lasted (for
// a freeze, to within FreezeCheckEvery/2; a sleep is exact). A freeze
// shorter than FreezeCheckEvery can fall between two wakes and go unseen.
type Freeze struct {
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	DurationS float64   `json:"duration_s"`
}

// measureGap splits the time between two wakes of a timer set every apart
// into how long the process was frozen and how long the device slept.
// mono and boot are how far CLOCK_MONOTONIC and CLOCK_BOOTTIME moved. Go
// timers run on CLOCK_MONOTONIC, so a suspend leaves mono at about every
// and shows only in boot; a freeze makes the wake late in both.
func measureGap(every, mono, boot time.Duration) (frozen, slept time.Duration) {
	if s := boot - mono; s >= FreezeMin {
		slept = s
	}
	// The freeze ended at this wake and began somewhere in the first
	// period: it lasted between late and late+every; take the middle.
	late := mono - every
	if f := late + every/2; late >= freezeLateMin && f >= FreezeMin {
		frozen = f
	}
	return frozen, slept
}

// clocks reads CLOCK_MONOTONIC and CLOCK_BOOTTIME. clock_gettime never
// blocks, so it is made as a raw syscall: the runtime's entry to a
// syscall would wake its sleeping monitor thread (sysmon) on every check.
func clocks() (mono, boot time.Duration) {
	var m, b unix.Timespec
	unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&m)), 0)
	unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_BOOTTIME, uintptr(unsafe.Pointer(&b)), 0)
	return time.Duration(m.Nano()), time.Duration(b.Nano())
}

// FreezeWatcher notices freezes and sleeps and records each one.
type FreezeWatcher struct {
	Recorder *Recorder
	// OnFreeze, when set, hears about each one too (for the log).
	OnFreeze func(Freeze)
	// Every overrides FreezeCheckEvery (tests).
	Every time.Duration
	// Clocks overrides the clock reads (tests).
	Clocks func() (mono, boot time.Duration)
	// Now overrides time.Now (tests).
	Now func() time.Time

	mu   sync.Mutex
	last *Freeze
}

// Last is the newest freeze or sleep this process saw (nil: none).
func (w *FreezeWatcher) Last() *Freeze {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		return nil
	}
	f := *w.last
	return &f
}

// Run watches until ctx ends. It waits for a one-shot timer it re-arms
// after each wake, not a ticker: a ticker delivers the tick it missed
// during a freeze and would blur the next measurement. The timer is a
// timerfd in the runtime's poller where the kernel has one (see
// newFreezeWaker); a Go timer otherwise.
func (w *FreezeWatcher) Run(ctx context.Context) {
	every, read, now := w.Every, w.Clocks, w.Now
	if every <= 0 {
		every = FreezeCheckEvery
	}
	if read == nil {
		read = clocks
	}
	if now == nil {
		now = time.Now
	}
	wake := newFreezeWaker(ctx, every)
	defer wake.stop()
	mono0, boot0 := read()
	for wake.wait(ctx) {
		mono, boot := read()
		frozen, slept := measureGap(every, mono-mono0, boot-boot0)
		mono0, boot0 = mono, boot
		end := now()
		// A sleep and a freeze can share one gap, in an unknown order:
		// the sleep is put first.
		if slept > 0 {
			w.note(Freeze{Kind: FreezeKindSleep, At: end.Add(-slept - frozen), DurationS: roundS(slept)})
		}
		if frozen > 0 {
			w.note(Freeze{Kind: FreezeKindFreeze, At: end.Add(-frozen), DurationS: roundS(frozen)})
		}
		wake.arm()
	}
}

func (w *FreezeWatcher) note(f Freeze) {
	w.mu.Lock()
	w.last = &f
	w.mu.Unlock()
	w.Recorder.Freeze(f)
	if w.OnFreeze != nil {
		w.OnFreeze(f)
	}
}

func roundS(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond)) / float64(time.Second)
}

// Freeze records a freeze or sleep in the lifetime record.
func (r *Recorder) Freeze(f Freeze) {
	r.write(Event{Event: EvFreeze, Kind: f.Kind, At: f.At.UTC(), DurationS: f.DurationS})
}

// FreezeWords says a freeze or sleep in words, for the log, doctor and the
// console: "Frozen for 4 min at 14:02 while Termux was in the background".
func FreezeWords(f Freeze, android bool) string {
	d, at := SpanWords(f.DurationS), f.At.Local().Format("15:04")
	switch {
	case f.Kind == FreezeKindSleep:
		return "The device slept for " + d + " at " + at + ", and webui with it"
	case android:
		return "Frozen for " + d + " at " + at + " while Termux was in the background"
	default:
		return "Frozen for " + d + " at " + at + " (the process was stopped: SIGSTOP, a cgroup freezer or docker pause)"
	}
}

// SpanWords is a duration in seconds as a person says it: "8 s", "4 min",
// "2 h 5 min".
func SpanWords(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < 90*time.Second:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < 90*time.Minute:
		return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
	default:
		h := int(d.Hours())
		return strconv.Itoa(h) + " h " + strconv.Itoa(int(d.Minutes())-60*h) + " min"
	}
}
