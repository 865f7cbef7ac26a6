package logging

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// AccessLine is one request as the access log records it.
type AccessLine struct {
	Method string
	Path   string
	Status int
	Bytes  int64
	DurMs  float64
	Remote string
}

var accessBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Access logs one request at lvl with the message "request". Without a
// terminal, the JSON line is formatted straight into the file buffer: the
// same bytes logrus's JSON formatter writes, without the maps and the
// reflection it needs for arbitrary fields, which cost most of a small
// static response's time.
func (l *Logger) Access(lvl logrus.Level, a AccessLine) {
	if !l.IsLevelEnabled(lvl) {
		return
	}
	if !l.fileOnly {
		l.WithFields(logrus.Fields{
			"method": a.Method, "path": a.Path, "status": a.Status,
			"bytes": a.Bytes, "dur_ms": a.DurMs, "remote": a.Remote,
		}).Log(lvl, "request")
		return
	}
	if l.buf == nil {
		return // neither a terminal nor a file: nothing to write
	}
	bp := accessBuffers.Get().(*[]byte)
	b := appendAccess((*bp)[:0], lvl, time.Now(), a)
	_, _ = l.buf.Write(b)
	if lvl <= logrus.WarnLevel {
		l.buf.Flush()
	}
	if cap(b) <= 4<<10 {
		*bp = b
		accessBuffers.Put(bp)
	}
}

// appendAccess appends a's JSON line with its keys in sorted order, as
// encoding/json writes a map.
func appendAccess(b []byte, lvl logrus.Level, t time.Time, a AccessLine) []byte {
	b = append(b, `{"bytes":`...)
	b = strconv.AppendInt(b, a.Bytes, 10)
	b = append(b, `,"dur_ms":`...)
	b = appendFloat(b, a.DurMs)
	b = append(b, `,"level":`...)
	b = appendString(b, lvl.String())
	b = append(b, `,"method":`...)
	b = appendString(b, a.Method)
	b = append(b, `,"msg":"request","path":`...)
	b = appendString(b, a.Path)
	b = append(b, `,"remote":`...)
	b = appendString(b, a.Remote)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"time":"`...)
	b = appendStamp(b, t)
	return append(b, "\"}\n"...)
}

// appendFloat writes f as encoding/json does; the rare values it writes in
// exponent form go through encoding/json itself.
func appendFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) || math.IsNaN(f) || math.IsInf(f, 0) {
		return appendMarshal(b, f)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString writes s as a JSON string with encoding/json's HTML
// escaping; anything beyond plain printable ASCII takes encoding/json's
// own path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendMarshal(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// stamp is the last second appendStamp formatted, split around its
// milliseconds: a busy server formats the same second thousands of times,
// and time's layout interpreter was a tenth of a small answer's time.
type stamp struct {
	sec        int64
	loc        *time.Location
	head, zone []byte // "2006-01-02T15:04:05" and "Z07:00"
}

var lastStamp atomic.Pointer[stamp]

// appendStamp appends t in timeFormat.
func appendStamp(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return t.AppendFormat(b, timeFormat)
	}
	c := lastStamp.Load()
	if c == nil || c.sec != t.Unix() || c.loc != t.Location() {
		full := t.Truncate(time.Second).AppendFormat(nil, timeFormat)
		n := len("2006-01-02T15:04:05")
		c = &stamp{sec: t.Unix(), loc: t.Location(), head: full[:n], zone: full[n+len(".000"):]}
		lastStamp.Store(c)
	}
	ms := t.Nanosecond() / 1e6
	b = append(b, c.head...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, c.zone...)
}
