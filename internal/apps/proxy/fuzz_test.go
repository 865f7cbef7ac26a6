package proxy

import (
	"net/url"
	"strings"
	"testing"
)

var fuzzPrefixes = []string{"/notes/", "/notes/deep/", "/a/", "/jupyter/", "/n"}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"/", "/notes", "/notes/", "/notes/deep", "/notes/deep/x", "/notesx/", "/a", "/n/", "", "//notes/"} {
		f.Add(s)
	}
	tb := New(Options{})
	var rs []Route
	for _, p := range fuzzPrefixes {
		rs = append(rs, Route{Name: p, Prefix: p})
	}
	tb.Set(rs)
	f.Fuzz(func(t *testing.T, path string) {
		r, ok := tb.Match(path)
		best := ""
		for _, p := range fuzzPrefixes {
			p = normPrefix(p)
			if (strings.HasPrefix(path, p) || path+"/" == p) && len(p) > len(best) {
				best = p
			}
		}
		if ok != (best != "") || (ok && r.Prefix != best) {
			t.Fatalf("Match(%q) = %q, %v; want the longest prefix %q", path, r.Prefix, ok, best)
		}
	})
}

func FuzzRewriteLocation(f *testing.F) {
	for _, s := range []string{"/login", "/notes/x", "login", "http://127.0.0.1:9000/a?b#c", "http://phone:8787/x",
		"https://example.com/", "//evil/x", "/\\evil", "http://127.0.0.1:9000", "http://u@127.0.0.1:9000/", "%zz", "http://PHONE:8787/notes"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, loc string, strip bool) {
		c := locCtx{prefix: "/notes/", strip: strip, upstreamHost: "127.0.0.1:9000", clientHost: "phone:8787", proto: "https"}
		once := rewriteLocation(loc, c)
		if twice := rewriteLocation(once, c); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", loc, once, twice)
		}
		if once == loc {
			return
		}
		if strings.HasPrefix(once, "/") {
			if !strings.HasPrefix(once, "/notes/") && once != "/notes" || !strip {
				t.Fatalf("%q -> %q: a path moves under the prefix only when stripping", loc, once)
			}
			return
		}
		u, err := url.Parse(once)
		if err != nil || u.Host != "phone:8787" || u.Scheme != "https" {
			t.Fatalf("%q -> %q: an absolute rewrite must point at the client's host", loc, once)
		}
		if strip && !strings.HasPrefix(u.Path, "/notes") {
			t.Fatalf("%q -> %q: lost the prefix", loc, once)
		}
		if in, err := url.Parse(loc); err == nil && !strings.EqualFold(in.Host, c.upstreamHost) && !strings.EqualFold(in.Host, c.clientHost) {
			t.Fatalf("%q -> %q: rewrote another host", loc, once)
		}
	})
}

func TestCookiePaths(t *testing.T) {
	c := locCtx{prefix: "/notes/", strip: true}
	reserved := map[string]bool{"webui_session": true}
	for in, want := range map[string]string{
		"a=1; Path=/":                    "a=1; Path=/notes/",
		"a=1; path=/x; Secure":           "a=1; Path=/notes/x; Secure",
		"a=1; Path=/notes/y":             "a=1; Path=/notes/y",
		"a=1; HttpOnly":                  "a=1; HttpOnly",
		"a=1; Path=relative":             "a=1; Path=relative",
		" webui_session=x; Path=/notes/": "",
	} {
		got := rewriteSetCookies([]string{in}, c, reserved)
		if (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	c.strip = false
	if got := rewriteSetCookies([]string{"a=1; Path=/"}, c, nil); got[0] != "a=1; Path=/" {
		t.Errorf("strip off rewrote %q", got[0])
	}
}
