package health

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func viaJSON(d Doc) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil
	}
	return buf.Bytes()
}

func sample() Doc {
	return Doc{Status: "ok", Version: "1.2.3", PID: 4242, StartedAt: time.Date(2026, 12, 1, 17, 18, 21, 123456789, time.UTC),
		UptimeS: 12.5, Platform: Platform{Arch: "arm64", OS: "android", Supervisor: SupervisorNone, Termux: true, Android: true},
		Restart: RestartInfo{Strategy: StrategyDelayed, Why: "Android: the strict kill window"}}
}

func TestAppendIndented(t *testing.T) {
	cases := map[string]func(*Doc){
		"as served":       func(*Doc) {},
		"android version": func(d *Doc) { d.Platform.AndroidVersion = "11" },
		"zero":            func(d *Doc) { *d = Doc{} },
		"deep checks":     func(d *Doc) { d.Checks = map[string]Check{"disk": {OK: false, Detail: "full"}}; d.Goroutines = 9 },
		"open fds":        func(d *Doc) { d.OpenFDs = 12; d.Inflight = 1 },
		"html in why":     func(d *Doc) { d.Restart.Why = "a <b> & c" },
		"quote":           func(d *Doc) { d.Version = `1"2\3` },
		"non-ASCII":       func(d *Doc) { d.Restart.Why = "très\u2028bien\xff" },
		"control":         func(d *Doc) { d.Status = "ok\n" },
		"tiny float":      func(d *Doc) { d.UptimeS = 1e-7 },
		"huge float":      func(d *Doc) { d.UptimeS = 1e21 },
		"negative":        func(d *Doc) { d.UptimeS = -3.25; d.PID = -1 },
		"mark":            func(d *Doc) { d.UptimeS = 987654321.125 },
		"local zone":      func(d *Doc) { d.StartedAt = d.StartedAt.In(time.FixedZone("x", 5*3600+1800)) },
		"year 10000":      func(d *Doc) { d.StartedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"NaN":             func(d *Doc) { d.UptimeS = math.NaN() },
	}
	for name, change := range cases {
		d := sample()
		change(&d)
		want := viaJSON(d)
		got := AppendIndented([]byte("prefix"), d)
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
}

// TestAppendIndentedKnowsEveryField fails when a field is added to the
// document: appendShallow must learn to write it (or to leave it to
// encoding/json), and TestAppendIndented to cover it.
func TestAppendIndentedKnowsEveryField(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeOf(Doc{}): 11, reflect.TypeOf(Platform{}): 7, reflect.TypeOf(RestartInfo{}): 2,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, appendShallow knows %d", typ, typ.NumField(), n)
		}
	}
}

func FuzzAppendIndented(f *testing.F) {
	f.Add("ok", "1.0.0", "exec", "why", "11", 42, 1.5, int64(1764609501123456789), true, false, true)
	f.Add("degraded", "", "", "<&>", "", -1, 0.0, int64(0), false, true, false)
	f.Fuzz(func(t *testing.T, status, version, strategy, why, androidVersion string, pid int, uptime float64, nanos int64, android, proot, termux bool) {
		d := Doc{Status: status, Version: version, PID: pid, StartedAt: time.Unix(0, nanos).UTC(), UptimeS: uptime,
			Platform: Platform{Android: android, AndroidVersion: androidVersion, Arch: version, OS: status, PRoot: proot, Supervisor: why, Termux: termux},
			Restart:  RestartInfo{Strategy: Strategy(strategy), Why: why}}
		if got, want := AppendIndented(nil, d), viaJSON(d); !bytes.Equal(got, want) {
			t.Fatalf("got %q\nwant %q", got, want)
		}
	})
}
