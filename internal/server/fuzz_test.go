package server

import (
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// FuzzHostAllowed: an accepted Host is an IP literal or an allowed name,
// with at most a numeric port.
func FuzzHostAllowed(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8787", "[::1]:1", "localhost", "phone.lan:80", "127.0.0.1:1.evil.com", "evil.example", "[::1]x", "::1"} {
		f.Add(s)
	}
	allowed := map[string]bool{"localhost": true, "phone.lan": true}
	f.Fuzz(func(t *testing.T, host string) {
		if !hostAllowed(host, allowed) {
			return
		}
		h := host
		if hh, port, err := net.SplitHostPort(host); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
				t.Fatalf("%q accepted with port %q", host, port)
			}
			h = hh
		}
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
			if !strings.Contains(h, ":") {
				t.Fatalf("%q accepted: brackets around a non-IPv6 host", host)
			}
		}
		h = strings.TrimSuffix(h, ".")
		if net.ParseIP(h) == nil && !allowed[strings.ToLower(h)] {
			t.Fatalf("%q accepted: %q is neither an IP nor an allowed name", host, h)
		}
	})
}

// FuzzSameOrigin: an accepted Origin is exactly this server as the
// request reached it, or the public URL.
func FuzzSameOrigin(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8787", "https://phone.tailnet.ts.net", "null", "http://127.0.0.1:8787/x", "http://u@127.0.0.1:8787", "HTTPS://PHONE.tailnet.ts.net"} {
		f.Add(s, false)
	}
	fd := newFrontDoor("https://phone.tailnet.ts.net")
	f.Fuzz(func(t *testing.T, origin string, forwarded bool) {
		r := httptest.NewRequest("POST", "/api/x", nil)
		r.Host = "127.0.0.1:8787"
		r.RemoteAddr = "192.168.1.2:5"
		if forwarded {
			r.Header.Set("X-Forwarded-Proto", "https")
		}
		if !fd.sameOrigin(origin, r) {
			return
		}
		o := strings.ToLower(origin)
		if o != "http://127.0.0.1:8787" && o != "https://phone.tailnet.ts.net" {
			t.Fatalf("accepted Origin %q", origin)
		}
	})
}

func TestRedact(t *testing.T) {
	in := strings.Join([]string{
		"\ufeffpassword_hash = pbkdf2-sha256$600000$abc$def",
		"# password_hash = pbkdf2-sha256$1$old$x",
		`read(5, "Cookie: webui_session=wus1.id.1999999999.mac\r\nAuthorization: Bearer wut_AAAAAAAAAAAAAAAAAAAA\r\n\r\n{\"password\":\"hunter22 x\"}", 99)`,
		`{"current":"old pw","new":"new pw","argv":["webui","--password-hash=pbkdf2-sha256$9$a$b"]}`,
		"GET /login?token=wut_BBBB HTTP/1.1",
		"set-cookie: webui_session=wus1.z; Path=/",
		"restart_delay = 15s",
	}, "\n")
	out := string(Redact([]byte(in)))
	for _, s := range []string{"pbkdf2", "hunter22", "wut_", "wus1.", "old pw", "new pw"} {
		if strings.Contains(out, s) {
			t.Errorf("redacted text holds %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "restart_delay = 15s") || !strings.Contains(out, "# password_hash = (redacted)") {
		t.Errorf("redaction took too much:\n%s", out)
	}
}
