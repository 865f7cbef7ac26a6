package proxy

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// failPage tells the client which app did not answer, its state and its
// last verdict, as HTML or, when Accept asks for it, JSON. Nothing of the
// upstream's own error (addresses, socket paths) goes out.
func (t *Table) failPage(w http.ResponseWriter, r *http.Request, code int, name, state, verdict string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	msg := failMessage(code)
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(struct {
			Error   string `json:"error"`
			App     string `json:"app"`
			State   string `json:"state"`
			Verdict string `json:"verdict,omitempty"`
		}{msg, name, state, verdict})
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	v := ""
	if verdict != "" {
		v = fmt.Sprintf("<p>Last verdict: <b>%s</b></p>", html.EscapeString(verdict))
	}
	n := html.EscapeString(name)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`+
		`<title>%[2]s: %[1]d</title></head><body style="font-family:sans-serif;margin:2em">`+
		`<h1>%[1]d</h1><p>The app <b>%[2]s</b> %[3]s.</p><p>State: <b>%[4]s</b></p>%[5]s`+
		`<p><a href="/">Open the console</a> for its logs and history.</p></body></html>`+"\n",
		code, n, msg, html.EscapeString(state), v)
}

func failMessage(code int) string {
	switch code {
	case http.StatusServiceUnavailable:
		return "is not ready"
	case http.StatusGatewayTimeout:
		return "did not answer in time"
	default:
		return "did not answer"
	}
}

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}
