package health

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Addr is a listen address, HOST:PORT, parsed once. Host is as written:
// "" (every interface), an IP, or a DNS name such as localhost. Port "0"
// means any port.
type Addr struct {
	Host string
	Port string
}

// ParseAddr parses HOST:PORT. The host is empty, an IP (IPv6 in
// brackets) or a DNS name; the port a number from 0 to 65535.
func ParseAddr(s string) (Addr, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	if !ValidHost(host) || (strings.HasPrefix(s, "[") && !strings.Contains(host, ":")) {
		return Addr{}, fmt.Errorf("address %q: bad host %q", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return Addr{}, fmt.Errorf("address %q: bad port %q (0 to 65535)", s, port)
	}
	// The kernel reads "+80" and "080" as 80: so does Port.
	return Addr{Host: host, Port: strconv.Itoa(p)}, nil
}

// ParseURL takes the address out of a /health URL, http://HOST:PORT/health,
// as a restart intent and `webui restart-helper --health` carry it.
func ParseURL(s string) (Addr, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Addr{}, err
	}
	if u.Scheme != "http" || u.Path != Path || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Addr{}, fmt.Errorf("%q is not an http://HOST:PORT%s URL", s, Path)
	}
	return ParseAddr(u.Host)
}

// ValidHost: a host is empty (every interface), an IP, or a DNS name.
func ValidHost(h string) bool {
	if h == "" || net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// String is HOST:PORT, with IPv6 hosts in brackets.
func (a Addr) String() string { return net.JoinHostPort(a.Host, a.Port) }

// IsZero reports whether a was never parsed.
func (a Addr) IsZero() bool { return a == Addr{} }

// AnyPort reports whether the port is 0: the kernel picks one.
func (a Addr) AnyPort() bool { return a.Port == "0" }

// Dialable is the address a client dials to reach a server listening on
// a: the wildcard hosts become loopback.
func (a Addr) Dialable() Addr {
	switch a.Host {
	case "", "0.0.0.0":
		a.Host = "127.0.0.1"
	case "::":
		a.Host = "::1"
	}
	return a
}

// IsLoopback reports whether only local clients can reach a listener on a
// (localhost, or a loopback IP).
func (a Addr) IsLoopback() bool {
	if a.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(a.Host)
	return ip != nil && ip.IsLoopback()
}

// URL is http://HOST:PORT followed by path.
func (a Addr) URL(path string) string { return "http://" + a.String() + path }

// Serves reports whether a socket listening on have is one a server told
// to listen on a may keep (an inherited listener): the same port, unless a
// asks for any, and the same host (localhost being 127.0.0.1), unless a
// names every interface.
func (a Addr) Serves(have Addr) bool {
	if !a.AnyPort() && a.Port != have.Port {
		return false
	}
	want := a.Host
	if want == "localhost" {
		want = "127.0.0.1"
	}
	hip, wip := net.ParseIP(have.Host), net.ParseIP(want)
	return want == "" || (hip != nil && wip != nil && hip.Equal(wip)) || have.Host == want || have.Host == a.Host
}
