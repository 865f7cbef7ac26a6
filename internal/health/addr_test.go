package health

import (
	"strings"
	"testing"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in        string
		ok        bool
		dial      string
		loopback  bool
		anyPort   bool
		urlHealth string
	}{
		{"127.0.0.1:8787", true, "127.0.0.1:8787", true, false, "http://127.0.0.1:8787/health"},
		{"0.0.0.0:8787", true, "127.0.0.1:8787", false, false, "http://0.0.0.0:8787/health"},
		{":8787", true, "127.0.0.1:8787", false, false, "http://:8787/health"},
		{"[::]:8787", true, "[::1]:8787", false, false, "http://[::]:8787/health"},
		{"[::1]:0", true, "[::1]:0", true, true, "http://[::1]:0/health"},
		{"localhost:80", true, "localhost:80", true, false, "http://localhost:80/health"},
		{"192.168.1.5:8787", true, "192.168.1.5:8787", false, false, "http://192.168.1.5:8787/health"},
		{"127.0.0.2:1", true, "127.0.0.2:1", true, false, "http://127.0.0.2:1/health"},
		{"phone.lan:8787", true, "phone.lan:8787", false, false, "http://phone.lan:8787/health"},
		{"127.0.0.1", false, "", false, false, ""},
		{"127.0.0.1:65536", false, "", false, false, ""},
		{"127.0.0.1:-1", false, "", false, false, ""},
		{"127.0.0.1:http", false, "", false, false, ""},
		{"[127.0.0.1]:80", false, "", false, false, ""},
		{"bad_host:80", false, "", false, false, ""},
		{"-a.b:80", false, "", false, false, ""},
		{"", false, "", false, false, ""},
		{"::1:80", false, "", false, false, ""},
	} {
		a, err := ParseAddr(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseAddr(%q): err = %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			if !strings.Contains(err.Error(), "address") {
				t.Errorf("ParseAddr(%q): error %q does not say which address", tc.in, err)
			}
			continue
		}
		if got := a.Dialable().String(); got != tc.dial {
			t.Errorf("%q.Dialable() = %q, want %q", tc.in, got, tc.dial)
		}
		if got := a.IsLoopback(); got != tc.loopback {
			t.Errorf("%q.IsLoopback() = %v, want %v", tc.in, got, tc.loopback)
		}
		if got := a.AnyPort(); got != tc.anyPort {
			t.Errorf("%q.AnyPort() = %v, want %v", tc.in, got, tc.anyPort)
		}
		if got := a.URL(Path); got != tc.urlHealth {
			t.Errorf("%q.URL = %q, want %q", tc.in, got, tc.urlHealth)
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = refused
	}{
		{"http://127.0.0.1:8787/health", "127.0.0.1:8787"},
		{"http://[::1]:8787/health", "[::1]:8787"},
		{"https://127.0.0.1:8787/health", ""},
		{"http://127.0.0.1:8787/api/restart", ""},
		{"http://127.0.0.1:8787/health?deep=1", ""},
		{"http://user@127.0.0.1:8787/health", ""},
		{"http://127.0.0.1/health", ""},
		{"::", ""},
	} {
		a, err := ParseURL(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseURL(%q) = %v, want an error", tc.in, a)
		case tc.want != "" && (err != nil || a.String() != tc.want):
			t.Errorf("ParseURL(%q) = %v, %v; want %s", tc.in, a, err, tc.want)
		}
	}
}

func TestServes(t *testing.T) {
	for _, tc := range []struct {
		want, have string
		ok         bool
	}{
		{"127.0.0.1:8787", "127.0.0.1:8787", true},
		{"localhost:8787", "127.0.0.1:8787", true},
		{"127.0.0.1:0", "127.0.0.1:40123", true},
		{":8787", "[::]:8787", true},
		{"0.0.0.0:8787", "0.0.0.0:8787", true},
		{"127.0.0.1:8787", "127.0.0.1:8788", false},
		{"0.0.0.0:8787", "127.0.0.1:8787", false},
		{"192.168.1.5:8787", "127.0.0.1:8787", false},
		{"[::1]:8787", "[::1]:8787", true},
	} {
		w, err1 := ParseAddr(tc.want)
		h, err2 := ParseAddr(tc.have)
		if err1 != nil || err2 != nil {
			t.Fatalf("parse %q, %q: %v %v", tc.want, tc.have, err1, err2)
		}
		if got := w.Serves(h); got != tc.ok {
			t.Errorf("%s.Serves(%s) = %v, want %v", tc.want, tc.have, got, tc.ok)
		}
	}
}

// FuzzParseAddr: what parses prints back to itself, and the derived
// addresses parse too.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8787", "[::]:0", ":80", "localhost:1", "a.b-c:65535", "[fe80::1%eth0]:8", "x:+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			return
		}
		b, err := ParseAddr(a.String())
		if err != nil || b != a {
			t.Fatalf("ParseAddr(%q) = %#v, but its String %q parses to %#v, %v", s, a, a.String(), b, err)
		}
		d := a.Dialable()
		if d.Host == "" || d.Host == "0.0.0.0" || d.Host == "::" {
			t.Fatalf("%q.Dialable() = %q still names every interface", s, d)
		}
		if _, err := ParseAddr(d.String()); err != nil {
			t.Fatalf("%q.Dialable() = %q does not parse: %v", s, d, err)
		}
		if u, err := ParseURL(a.URL(Path)); err != nil || u != a {
			t.Fatalf("ParseURL(%q) = %#v, %v; want %#v", a.URL(Path), u, err, a)
		}
		if !a.Serves(a) {
			t.Fatalf("%q does not serve itself", s)
		}
	})
}
