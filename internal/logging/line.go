package logging

import (
	"math"
	"slices"
	"strconv"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/jsonfast"
)

// lineFormatter writes an entry as logrus's JSONFormatter does (the keys
// sorted, as encoding/json writes a map) when its fields are what webui
// logs: strings, errors, integers, float64s and bools under plain keys
// that clash with none of logrus's own. The rest goes to ref. Going
// through a map and encoding/json for every line cost a server line most
// of its time, and the first one (the listening line) a twentieth of a
// start, beside the first answer.
//
// logrus notes a func-valued field, which it drops, as "logrus_error";
// this formatter cannot see that note. webui logs no func values.
type lineFormatter struct{ ref logrus.Formatter }

func (f lineFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if e.Buffer != nil && e.Caller == nil {
		if b, ok := appendEntry(e.Buffer.AvailableBuffer(), e); ok {
			e.Buffer.Write(b)
			return e.Buffer.Bytes(), nil
		}
	}
	return f.ref.Format(e)
}

// appendEntry appends e's line, or reports that it has a field this
// formatter leaves to logrus.
func appendEntry(b []byte, e *logrus.Entry) ([]byte, bool) {
	var arr [16]string
	keys := append(arr[:0], "level", "msg", "time")
	for k := range e.Data {
		switch k {
		case "level", "msg", "time", "logrus_error":
			return b, false // logrus renames these "fields.<key>"
		}
		if !jsonfast.Plain(k) {
			return b, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), k...), `":`...)
		var ok bool
		switch k {
		case "level":
			b, ok = jsonfast.AppendString(b, e.Level.String()), true
		case "msg":
			b, ok = jsonfast.AppendString(b, e.Message), true
		case "time":
			b, ok = append(appendStamp(append(b, '"'), e.Time), '"'), true
		default:
			b, ok = appendValue(b, e.Data[k])
		}
		if !ok {
			return b, false
		}
	}
	return append(b, "}\n"...), true
}

// appendValue appends v as encoding/json does, for the types webui logs.
func appendValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return jsonfast.AppendString(b, v), true
	case error:
		return jsonfast.AppendString(b, v.Error()), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), true
	case float64:
		// encoding/json refuses NaN and infinities: logrus's error, not ours.
		return jsonfast.AppendFloat(b, v), !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	return b, false
}
