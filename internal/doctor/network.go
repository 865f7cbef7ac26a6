package doctor

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/update"
)

// lookupTimeout keeps doctor quick on a phone with a bad network.
const lookupTimeout = 2 * time.Second

type dnsInput struct {
	Termux     bool
	Prefix     string
	EtcResolv  bool     // /etc/resolv.conf exists
	PrefixNS   []string // nameservers in $PREFIX/etc/resolv.conf
	Host       string   // the update feed's host ("" none)
	Offline    string   // why the lookup was skipped ("" it ran)
	LookupErr  error
	LookupDone bool
}

func checkDNS(ctx context.Context, p *Probes) Check {
	in := dnsInput{Termux: p.termux(), Prefix: p.prefix()}
	_, err := p.Stat("/etc/resolv.conf")
	in.EtcResolv = err == nil
	if in.Prefix != "" {
		if b, err := p.ReadFile(filepath.Join(in.Prefix, "etc", "resolv.conf")); err == nil {
			in.PrefixNS = update.ParseResolvConf(b)
		}
	}
	if u, err := url.Parse(p.Config.UpdateURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		in.Host = u.Hostname()
	}
	switch {
	case in.Host == "":
	case p.Offline:
		in.Offline = "asked to stay offline"
	case noDefaultRoute(p):
		in.Offline = "no default route: offline"
	default:
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		in.LookupErr, in.LookupDone = p.Resolve(lctx, in.Host), true
		cancel()
	}
	return decideDNS(in)
}

// noDefaultRoute: /proc/net/route is readable and lists no default route
// (Android may hide it; then the lookup is tried).
func noDefaultRoute(p *Probes) bool {
	v4, err4 := p.ReadFile("/proc/net/route")
	v6, err6 := p.ReadFile("/proc/net/ipv6_route")
	if err4 != nil || err6 != nil {
		return false
	}
	for _, line := range strings.Split(string(v4), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "00000000" && f[0] != "lo" {
			return false
		}
	}
	for _, line := range strings.Split(string(v6), "\n") {
		if f := strings.Fields(line); len(f) > 9 && f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo" {
			return false
		}
	}
	return true
}

func decideDNS(in dnsInput) Check {
	c := Check{ID: "dns", Status: OK}
	var conf string
	switch {
	case in.EtcResolv:
		conf = "/etc/resolv.conf is present"
	case in.Prefix != "" && len(in.PrefixNS) > 0:
		conf = filepath.Join(in.Prefix, "etc", "resolv.conf") + " lists " + strings.Join(in.PrefixNS, ", ")
	case in.Termux:
		c.Status = Warn
		c.Summary = "no resolver configuration: /etc/resolv.conf is missing (as on Android) and " +
			filepath.Join(in.Prefix, "etc", "resolv.conf") + " lists no nameserver, so update checks cannot resolve names"
		c.Fix = "`pkg install resolv-conf`"
		return c
	default:
		c.Status = Warn
		c.Summary = "/etc/resolv.conf is missing: update checks cannot resolve names"
		c.Fix = "configure a resolver (on Debian/Ubuntu: the resolvconf or systemd-resolved package)"
		return c
	}
	switch {
	case in.Host == "":
		c.Summary = conf + "; no update host to look up"
	case in.Offline != "":
		c.Summary = conf + "; lookup of " + in.Host + " skipped (" + in.Offline + ")"
	case in.LookupErr != nil:
		c.Status = Warn
		c.Summary = conf + ", but " + in.Host + " did not resolve: " + in.LookupErr.Error()
		c.Fix = "check the network connection"
		if in.Termux {
			c.Fix += "; `pkg install resolv-conf` if the nameservers are wrong"
		}
	default:
		c.Summary = conf + "; " + in.Host + " resolves"
	}
	return c
}

// Where the Go TLS stack and distributions keep CA bundles.
var linuxBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
}

type tlsInput struct {
	Termux bool
	// Env: SSL_CERT_FILE, when set.
	Env string
	// Bundle is the first bundle found ("" none) and whether it holds
	// certificates.
	Bundle string
	HasPEM bool
}

func checkTLS(_ context.Context, p *Probes) Check {
	in := tlsInput{Termux: p.termux(), Env: p.Getenv("SSL_CERT_FILE")}
	cands := linuxBundles
	if pre := p.prefix(); pre != "" {
		cands = []string{filepath.Join(pre, "etc", "tls", "cert.pem")}
	}
	if in.Env != "" {
		cands = []string{in.Env}
	}
	for _, f := range cands {
		if b, err := p.ReadFile(f); err == nil {
			in.Bundle, in.HasPEM = f, bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----"))
			break
		}
	}
	return decideTLS(in)
}

func decideTLS(in tlsInput) Check {
	c := Check{ID: "tls", Status: OK}
	pkg := "`apt install ca-certificates`"
	if in.Termux {
		pkg = "`pkg install ca-certificates`"
	}
	switch {
	case in.Env != "" && in.Bundle == "":
		c.Status, c.Summary, c.Fix = Fail, "SSL_CERT_FILE="+in.Env+" cannot be read: update checks will fail", "unset SSL_CERT_FILE or point it at a CA bundle"
	case in.Env != "" && !in.HasPEM:
		c.Status, c.Summary, c.Fix = Fail, "SSL_CERT_FILE="+in.Env+" holds no certificates: update checks will fail", "unset SSL_CERT_FILE or point it at a CA bundle"
	case in.Bundle == "" || !in.HasPEM:
		c.Status = Warn
		c.Summary = "no CA bundle found: update checks use the roots built into webui, which age with the binary"
		c.Fix = pkg
	default:
		c.Summary = "CA bundle " + in.Bundle
	}
	return c
}
