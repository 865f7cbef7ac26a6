package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// locCtx is what rewriting an app's answer needs to know about the request.
type locCtx struct {
	prefix       string // "/notes/"
	strip        bool   // the app does not know its prefix
	upstreamHost string // the address webui dialed
	clientHost   string // the Host the client sent
	proto        string // http or https, as the client came
}

// under reports whether an app's path already carries the prefix (an app
// that honours X-Forwarded-Prefix writes "/notes/login" itself).
func (c locCtx) under(p string) bool {
	return p == strings.TrimSuffix(c.prefix, "/") || strings.HasPrefix(p, c.prefix)
}

// rewriteLocation puts an app's redirect under its prefix. "/login" becomes
// "/notes/login"; an absolute URL at the app's own address or at the
// client's Host gets the client's scheme, Host and the prefix. Relative
// paths ("login") already resolve under the prefix, and other hosts are
// none of webui's business: both stay as they are. With the prefix kept
// (strip off) only the app's own address is replaced.
func rewriteLocation(loc string, c locCtx) string {
	if c.prefix == "/" {
		c.strip = false
	}
	if strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, "/\\") {
		p, _, _ := strings.Cut(loc, "?")
		p, _, _ = strings.Cut(p, "#")
		if !c.strip || c.under(p) {
			return loc
		}
		return strings.TrimSuffix(c.prefix, "/") + loc
	}
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		return loc
	}
	atApp := c.upstreamHost != "" && strings.EqualFold(u.Host, c.upstreamHost)
	atClient := c.clientHost != "" && strings.EqualFold(u.Host, c.clientHost)
	if !atApp && !atClient {
		return loc
	}
	if atClient && (!c.strip || c.under(u.Path)) {
		return loc
	}
	u.Scheme, u.Host = c.proto, c.clientHost
	if !c.strip || c.under(u.Path) {
		return u.String()
	}
	// The prefix is plain ASCII, so prepending it keeps the app's escaping.
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	s := c.proto + "://" + c.clientHost + strings.TrimSuffix(c.prefix, "/") + p
	if u.ForceQuery || u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return s
}

// rewriteSetCookies moves an app's cookies under its prefix when it does
// not know the prefix: "Path=/" becomes "Path=/notes/", so an app cannot
// set cookies for the console or its neighbours. Cookies named like
// webui's own are dropped: an app may not plant or replace them.
func rewriteSetCookies(cs []string, c locCtx, reserved map[string]bool) []string {
	out := cs[:0:0]
	for _, v := range cs {
		name, _, _ := strings.Cut(v, "=")
		if reserved[strings.TrimSpace(name)] {
			continue
		}
		if c.strip && c.prefix != "/" {
			v = cookiePath(v, c)
		}
		out = append(out, v)
	}
	return out
}

func cookiePath(v string, c locCtx) string {
	parts := strings.Split(v, ";")
	changed := false
	for i := 1; i < len(parts); i++ {
		k, val, ok := strings.Cut(parts[i], "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "path") {
			continue
		}
		val = strings.TrimSpace(val)
		if !strings.HasPrefix(val, "/") || c.under(val) {
			continue // not a path the browser would keep, or already right
		}
		parts[i] = " Path=" + strings.TrimSuffix(c.prefix, "/") + val
		changed = true
	}
	if !changed {
		return v
	}
	return strings.Join(parts, ";")
}

// dropCookies removes the named cookies from a request's Cookie headers.
func dropCookies(h http.Header, names map[string]bool) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair == "" || names[strings.TrimSpace(name)] {
				continue
			}
			kept = append(kept, pair)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = []string{strings.Join(kept, "; ")}
}
