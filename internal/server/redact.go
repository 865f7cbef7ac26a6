package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
)

// Redaction by content, not by key name: whatever file the evidence bundle
// takes (records, logs, strace output, the config) and whatever /api/diag
// answers, these never leave the phone. Tokens and session cookies carry
// fixed prefixes (auth.TokenPrefix, auth.SessionPrefix) so that even a
// truncated one in a trace is recognised. They are compiled on first use,
// not at init: a start waits for every package's init.
var redactions = sync.OnceValue(func() []redaction {
	return []redaction{
		{regexp.MustCompile(`(?im)^(\x{feff}?[ \t]*[#;]?[ \t]*password_hash[ \t]*=[ \t]*).*$`), "${1}(redacted)"},
		{regexp.MustCompile(`pbkdf2-sha256\$[^\s"'\\,;]*`), "(redacted hash)"},
		{regexp.MustCompile(`wut_[A-Za-z0-9_-]*`), "(redacted token)"},
		{regexp.MustCompile(`wus1\.[A-Za-z0-9_.-]*`), "(redacted session)"},
		{regexp.MustCompile(`(?i)(authorization\\?"?[ \t]*[:=][ \t]*\\?"?[ \t]*)[^\r\n"\\]+`), "${1}(redacted)"},
		{regexp.MustCompile(`(?i)((?:^|[^a-z-])(?:set-)?cookie\\?"?[ \t]*[:=][ \t]*\\?"?[ \t]*)[^\r\n"\\]+`), "${1}(redacted)"},
		{regexp.MustCompile(`(?i)(webui_session=)[^;\s"\\]+`), "${1}(redacted)"},
		{regexp.MustCompile(`([?&]token=)[^&\s"\\]+`), "${1}(redacted)"},
		{regexp.MustCompile(`(\\*"(?:password|current|new)\\*"[ \t]*:[ \t]*\\*")((?:[^"\\]|\\[^"])*)`), "${1}(redacted)"},
	}
})

type redaction struct {
	re   *regexp.Regexp
	repl string
}

// Redact removes secrets from text: password hashes, access tokens,
// session cookies, Authorization and Cookie headers, token links, and the
// passwords of login and password-change bodies.
func Redact(data []byte) []byte {
	for _, r := range redactions() {
		data = r.re.ReplaceAll(data, []byte(r.repl))
	}
	return data
}

// writeRedactedJSON is writeJSON with Redact applied to the document.
func writeRedactedJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(Redact(buf.Bytes()))
}
