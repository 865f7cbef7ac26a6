package logging

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/jsonfast"
)

// AccessLine is one request as the access log records it.
type AccessLine struct {
	Method string
	Path   string
	Status int
	Bytes  int64
	DurMs  float64
	Remote string
	// At is when the request ended, the line's time; zero means now. A
	// caller that timed the request has it already, and a clock read is
	// a noticeable part of a small answer's cost.
	At time.Time
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
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	b := appendAccess((*bp)[:0], lvl, at, a)
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
	b = jsonfast.AppendFloat(b, a.DurMs)
	b = append(b, `,"level":`...)
	b = jsonfast.AppendString(b, lvl.String())
	b = append(b, `,"method":`...)
	b = jsonfast.AppendString(b, a.Method)
	b = append(b, `,"msg":"request","path":`...)
	b = jsonfast.AppendString(b, a.Path)
	b = append(b, `,"remote":`...)
	b = jsonfast.AppendString(b, a.Remote)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"time":"`...)
	b = appendStamp(b, t)
	return append(b, "\"}\n"...)
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
