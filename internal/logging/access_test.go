package logging

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// logrusLine is what logrus's JSON formatter writes for the same request.
func logrusLine(t testing.TB, lvl logrus.Level, at time.Time, a AccessLine) []byte {
	e := logrus.NewEntry(logrus.New()).WithTime(at).WithFields(logrus.Fields{
		"method": a.Method, "path": a.Path, "status": a.Status, "bytes": a.Bytes, "dur_ms": a.DurMs, "remote": a.Remote,
	})
	e.Level = lvl
	e.Message = "request"
	b, err := (&logrus.JSONFormatter{TimestampFormat: timeFormat}).Format(e)
	if err != nil {
		return nil // NaN and infinities: logrus drops such a line
	}
	return b
}

// The direct access line is byte for byte what logrus writes, so readers
// of the log (ctl logs, the console) see one format.
func TestAccessLineMatchesLogrus(t *testing.T) {
	at := time.Date(2026, 6, 2, 14, 3, 0, 123456789, time.FixedZone("x", 3600))
	for _, a := range []AccessLine{
		{Method: "GET", Path: "/assets/app.css", Status: 200, Bytes: 12393, DurMs: 0.25, Remote: "127.0.0.1:40000"},
		{Method: "POST", Path: "/a<b>&c\"d\\e", Status: 404, DurMs: 0},
		{Method: "GET", Path: "/\x00\x1f\x7f\xff\u2028é", Status: 500, Bytes: -1, DurMs: 1e-9},
		{Method: "GET", Path: "/", Status: 200, DurMs: 123456.789, Remote: "[::1]:1"},
		{DurMs: 1e22},
	} {
		for _, lvl := range []logrus.Level{logrus.InfoLevel, logrus.DebugLevel, logrus.WarnLevel} {
			got := appendAccess(nil, lvl, at, a)
			if want := logrusLine(t, lvl, at, a); !bytes.Equal(got, want) {
				t.Errorf("%+v:\n got %s\nwant %s", a, got, want)
			}
		}
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("GET", "/assets/app.css", "127.0.0.1:1", 200, int64(5), 0.5)
	f.Add("P<>", "/\xff\u2029", "", -3, int64(-1), 1e-7)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	f.Fuzz(func(t *testing.T, method, path, remote string, status int, n int64, dur float64) {
		a := AccessLine{Method: method, Path: path, Status: status, Bytes: n, DurMs: dur, Remote: remote}
		want := logrusLine(t, logrus.InfoLevel, at, a)
		if want == nil {
			return
		}
		if got := appendAccess(nil, logrus.InfoLevel, at, a); !bytes.Equal(got, want) && !bytes.Contains(want, []byte(`"logrus_error"`)) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkAccessFast is the access line the server writes without a
// terminal: formatted directly into the file buffer.
func BenchmarkAccessFast(b *testing.B) {
	lg, err := New(Options{Dir: b.TempDir(), Level: "info", MaxSizeMB: 100, MaxFiles: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	b.ReportAllocs()
	for b.Loop() {
		lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/assets/app.css", Status: 200, Bytes: 11602, DurMs: 0.25, Remote: "127.0.0.1:40000"})
	}
}

// FuzzStamp holds the cached timestamp to time's own layout, across
// seconds, zones and the years the cache leaves to time.
func FuzzStamp(f *testing.F) {
	f.Add(int64(1796137517), int64(123456789), 0)
	f.Add(int64(-62135596800), int64(999999999), 1)
	f.Add(int64(253402300800), int64(5), 2)
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -7*3600)}
	f.Fuzz(func(t *testing.T, sec, nsec int64, zone int) {
		if zone < 0 {
			zone = -zone
		}
		at := time.Unix(sec, nsec%1e9).In(zones[zone%len(zones)])
		for _, tt := range []time.Time{at, at.Add(time.Millisecond), at} { // a cached second, then a hit
			if got, want := string(appendStamp(nil, tt)), tt.Format(timeFormat); got != want {
				t.Fatalf("appendStamp(%v) = %q, want %q", tt, got, want)
			}
		}
	})
}

// A line carries the time its caller gives, the request's end, and the
// time it is written when the caller gives none.
func TestAccessLineTime(t *testing.T) {
	dir := t.TempDir()
	lg, err := New(Options{Dir: dir, Level: "info", MaxSizeMB: 1, MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.Local)
	lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/given", Status: 200, At: end})
	before := time.Now()
	lg.Access(logrus.InfoLevel, AccessLine{Method: "GET", Path: "/now", Status: 200})
	after := time.Now()
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLog(t, dir)
	if want := `"path":"/given","remote":"","status":200,"time":"` + end.Format(timeFormat) + `"`; !strings.Contains(got, want) {
		t.Errorf("log %q lacks %q", got, want)
	}
	minute := func(t time.Time) string { return `"time":"` + t.Format(timeFormat[:len("2006-01-02T15:04")]) }
	if !strings.Contains(got, minute(before)) && !strings.Contains(got, minute(after)) {
		t.Errorf("log %q lacks the time of writing, %q", got, minute(before))
	}
}
