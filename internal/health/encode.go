package health

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/termux-webui/webui/internal/jsonfast"
)

// AppendIndented appends d as json.Encoder with SetIndent("", "  ") writes
// it, final newline included. The shallow document (no deep fields) with
// plain ASCII strings is written by hand: encoding/json's first look at
// the type is a tenth of the time a start takes to answer its first
// /health. Anything else goes through encoding/json itself. TestAppendIndented
// and FuzzAppendIndented hold the two to the same bytes.
func AppendIndented(b []byte, d Doc) []byte {
	if out, ok := appendShallow(b, d); ok {
		return out
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return b
	}
	return append(b, buf.Bytes()...)
}

func appendShallow(b []byte, d Doc) ([]byte, bool) {
	p := d.Platform
	if d.Checks != nil || d.Goroutines != 0 || d.OpenFDs != 0 || d.Inflight != 0 ||
		!jsonfast.Plain(d.Status) || !jsonfast.Plain(d.Version) || !jsonfast.Plain(p.AndroidVersion) || !jsonfast.Plain(p.Arch) ||
		!jsonfast.Plain(p.OS) || !jsonfast.Plain(p.Supervisor) || !jsonfast.Plain(string(d.Restart.Strategy)) || !jsonfast.Plain(d.Restart.Why) {
		return b, false
	}
	if !jsonfast.PlainFloat(d.UptimeS) {
		return b, false
	}
	started, err := d.StartedAt.MarshalJSON() // quoted RFC 3339: no escapes
	if err != nil {
		return b, false
	}
	str := func(b []byte, key, v string) []byte {
		return append(append(append(append(b, key...), '"'), v...), "\",\n"...)
	}
	b = str(append(b, "{\n"...), `  "status": `, d.Status)
	b = str(b, `  "version": `, d.Version)
	b = append(strconv.AppendInt(append(b, `  "pid": `...), int64(d.PID), 10), ",\n"...)
	b = append(append(append(b, `  "started_at": `...), started...), ",\n"...)
	b = append(strconv.AppendFloat(append(b, `  "uptime_s": `...), d.UptimeS, 'f', -1, 64), ",\n"...)
	b = strconv.AppendBool(append(b, "  \"platform\": {\n    \"android\": "...), p.Android)
	b = append(b, ",\n"...)
	if p.AndroidVersion != "" {
		b = str(b, `    "android_version": `, p.AndroidVersion)
	}
	b = str(b, `    "arch": `, p.Arch)
	b = str(b, `    "os": `, p.OS)
	b = append(strconv.AppendBool(append(b, `    "proot": `...), p.PRoot), ",\n"...)
	b = str(b, `    "supervisor": `, p.Supervisor)
	b = strconv.AppendBool(append(b, `    "termux": `...), p.Termux)
	b = append(b, "\n  },\n  \"restart\": {\n"...)
	b = str(b, `    "strategy": `, string(d.Restart.Strategy))
	b = append(append(append(b, `    "why": "`...), d.Restart.Why...), "\"\n  }\n}\n"...)
	return b, true
}
