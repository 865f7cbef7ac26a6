package logging

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/termux-webui/webui/internal/paths"
)

// The log file holds exactly what logrus's JSON formatter writes, one line
// per entry, whatever the terminal output is.
func TestFileLinesAreLogrusJSON(t *testing.T) {
	for _, stderr := range []bool{false, true} {
		dir := t.TempDir()
		var term bytes.Buffer
		o := Options{Dir: dir, Level: "debug", MaxSizeMB: 1, MaxFiles: 1}
		if stderr {
			o.Stderr = &term
		}
		lg, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 6, 2, 14, 3, 0, 123456789, time.UTC)
		want := &logrus.JSONFormatter{TimestampFormat: "2006-01-02T15:04:05.000Z07:00"}
		var expect bytes.Buffer
		entries := []*logrus.Entry{
			lg.WithTime(at).WithFields(logrus.Fields{"method": "GET", "path": "/a<b>&c", "status": 200, "bytes": int64(65536), "dur_ms": 1.25}),
			lg.WithTime(at).WithField("err", errors.New("broken pipe")).WithField("msg", "clash"),
			lg.WithTime(at),
		}
		for _, e := range entries {
			e.Level = logrus.InfoLevel
			e.Message = "request"
			b, err := want.Format(e)
			if err != nil {
				t.Fatal(err)
			}
			expect.Write(b)
			e.Info("request")
		}
		lg.Close()
		got, err := os.ReadFile(paths.Log(dir).Server())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, expect.Bytes()) {
			t.Errorf("stderr=%v: file\n%s\nwant\n%s", stderr, got, expect.Bytes())
		}
		if stderr != (term.Len() > 0) {
			t.Errorf("stderr=%v: terminal output %q", stderr, term.String())
		}
		if stderr && !bytes.Contains(term.Bytes(), []byte(`path="/a<b>&c"`)) {
			t.Errorf("terminal text: %q", term.String())
		}
	}
}

// BenchmarkAccessLine is one access-log line as the server writes it
// without a terminal: fields, the JSON line into the log file.
func BenchmarkAccessLine(b *testing.B) {
	lg, err := New(Options{Dir: b.TempDir(), Level: "info", MaxSizeMB: 100, MaxFiles: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	b.ReportAllocs()
	for b.Loop() {
		lg.WithFields(logrus.Fields{"method": "GET", "path": "/assets/app.css", "status": 200, "bytes": int64(11602),
			"dur_ms": 0.25, "remote": "127.0.0.1:40000"}).Info("request")
	}
}

// FuzzEntryLine holds the file's formatter to logrus's JSONFormatter.
func FuzzEntryLine(f *testing.F) {
	f.Add("listening", "addr", "127.0.0.1:8787", "pid", int64(42), 1.5, true)
	f.Add("a<b>", "msg", "\xff", "fields.x", int64(-1), 1e300, false)
	ref := &logrus.JSONFormatter{TimestampFormat: timeFormat}
	fast := lineFormatter{ref: ref}
	at := time.Date(2026, 12, 1, 17, 0, 0, 5e8, time.FixedZone("y", -7200))
	f.Fuzz(func(t *testing.T, msg, k1, v1, k2 string, n int64, x float64, ok bool) {
		e := logrus.NewEntry(logrus.New()).WithTime(at).WithFields(logrus.Fields{
			k1: v1, k2: n, "x": x, "ok": ok, "err": errors.New(v1), "u": uint32(n), "i": int(n),
		})
		e.Level, e.Message = logrus.WarnLevel, msg
		e.Buffer = new(bytes.Buffer)
		want, werr := ref.Format(e)
		want = bytes.Clone(want)
		e.Buffer = new(bytes.Buffer)
		got, gerr := fast.Format(e)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s (%v)", got, gerr, want, werr)
		}
	})
}
