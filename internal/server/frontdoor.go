package server

import (
	"net/http"
	"net/url"
	"strings"
)

// frontDoor is how browsers reach this server: directly, or through a TLS
// proxy (Tailscale Serve, cloudflared, Caddy) at public_url. The proxy's
// X-Forwarded-Proto is believed only when public_url is set and the
// request comes from loopback, where the proxy runs; the login limit
// never reads forwarded headers at all.
type frontDoor struct {
	public *url.URL // nil without public_url
}

func newFrontDoor(publicURL string) frontDoor {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Host == "" {
		return frontDoor{}
	}
	return frontDoor{public: &url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host)}}
}

// scheme is how the browser reached us: http or https.
func (f frontDoor) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if f.public != nil && isLoopbackRemote(r) {
		if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// secure: cookies get the Secure flag when the browser came over https.
func (f frontDoor) secure(r *http.Request) bool { return f.scheme(r) == "https" }

// sameOrigin reports whether a browser's Origin header is this server: the
// address it used (scheme and Host), or the public URL.
func (f frontDoor) sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil || u.RawQuery != "" {
		return false
	}
	if f.public != nil && strings.EqualFold(u.Scheme, f.public.Scheme) && strings.EqualFold(u.Host, f.public.Host) {
		return true
	}
	return u.Scheme == f.scheme(r) && strings.EqualFold(u.Host, r.Host)
}

// publicHost is the public URL's host name, "" without one.
func (f frontDoor) publicHost() string {
	if f.public == nil {
		return ""
	}
	return f.public.Hostname()
}
