package update

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Embedded roots, used only when the system has none (Android without
	// Termux's ca-certificates, a bare container).
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/version"
)

// Timeouts of the release feed client. Each phase of a request has its
// own bound, so a server that accepts and then hangs fails in time.
const (
	DialTimeout         = 10 * time.Second
	TLSHandshakeTimeout = 10 * time.Second
	HeaderTimeout       = 20 * time.Second
	// ManifestTimeout bounds fetching the manifest and its signature.
	ManifestTimeout = 30 * time.Second
	// StallTimeout ends a download that receives nothing for this long.
	StallTimeout = 60 * time.Second
	// DownloadTimeout bounds a whole download.
	DownloadTimeout = 30 * time.Minute
)

// ClientOptions describe where the HTTP client finds DNS servers and TLS
// roots. Zero values mean the process's own environment.
type ClientOptions struct {
	Getenv func(string) string
	// EtcResolv is the system resolver file ("/etc/resolv.conf").
	EtcResolv string
}

// NewHTTPClient returns the client that talks to the release feed:
//
//   - DNS: the Go resolver reads /etc/resolv.conf, which Android lacks
//     (it would then ask [::1]:53 and fail). When it is missing, the
//     nameservers of $PREFIX/etc/resolv.conf (Termux's resolv-conf
//     package) are used; with neither, lookups fail with an error that
//     says to install resolv-conf. There is no built-in public DNS.
//   - TLS roots: $SSL_CERT_FILE, else $PREFIX/etc/tls/cert.pem (Termux's
//     ca-certificates), else the system's roots, else the roots embedded
//     from golang.org/x/crypto/x509roots/fallback/bundle, parsed lazily.
//   - timeouts for the dial, the TLS handshake and the response header.
func NewHTTPClient(o ClientOptions) (*http.Client, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	etc := o.EtcResolv
	if etc == "" {
		etc = "/etc/resolv.conf"
	}
	dialer := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second, Resolver: Resolver(etc, termuxPrefix(getenv))}
	roots, err := RootCAs(getenv)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ResponseHeaderTimeout: HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConns:          4,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}, nil
}

// termuxPrefix is $PREFIX, or Termux's fixed prefix when it exists.
func termuxPrefix(getenv func(string) string) string {
	if p := strings.TrimRight(getenv("PREFIX"), "/"); p != "" {
		return p
	}
	if st, err := os.Stat(paths.TermuxPrefix); err == nil && st.IsDir() {
		return paths.TermuxPrefix
	}
	return ""
}

// Resolver returns nil (the default resolver) when etcResolv exists, and
// otherwise a pure-Go resolver that asks the nameservers listed in
// prefix/etc/resolv.conf.
func Resolver(etcResolv, prefix string) *net.Resolver {
	if _, err := os.Stat(etcResolv); err == nil {
		return nil
	}
	var servers []string
	termuxConf := ""
	if prefix != "" {
		termuxConf = filepath.Join(prefix, "etc", "resolv.conf")
		if b, err := os.ReadFile(termuxConf); err == nil {
			servers = ParseResolvConf(b)
		}
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if len(servers) == 0 {
				where := etcResolv + " is missing"
				if termuxConf != "" {
					where += " and " + termuxConf + " lists no nameserver"
				}
				return nil, fmt.Errorf("no DNS server: %s (on Termux: pkg install resolv-conf)", where)
			}
			d := net.Dialer{Timeout: 5 * time.Second}
			var err error
			for _, s := range servers {
				var c net.Conn
				if c, err = d.DialContext(ctx, network, net.JoinHostPort(s, "53")); err == nil {
					return c, nil
				}
			}
			return nil, err
		},
	}
}

// ParseResolvConf returns the addresses on the "nameserver" lines of a
// resolv.conf.
func ParseResolvConf(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		host := f[1]
		if i := strings.IndexByte(host, '%'); i >= 0 && net.ParseIP(host[:i]) != nil {
			out = append(out, host) // link-local with a zone
			continue
		}
		if net.ParseIP(host) != nil {
			out = append(out, host)
		}
	}
	return out
}

// RootCAs is the pool that verifies the feed's TLS certificates; nil
// means the system's roots (with the embedded fallback).
func RootCAs(getenv func(string) string) (*x509.CertPool, error) {
	if f := getenv("SSL_CERT_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("SSL_CERT_FILE=%s holds no PEM certificates", f)
		}
		return pool, nil
	}
	if p := termuxPrefix(getenv); p != "" {
		if b, err := os.ReadFile(filepath.Join(p, "etc", "tls", "cert.pem")); err == nil {
			pool := x509.NewCertPool()
			if pool.AppendCertsFromPEM(b) {
				return pool, nil
			}
		}
	}
	if sys, err := x509.SystemCertPool(); err == nil && !sys.Equal(x509.NewCertPool()) {
		return nil, nil // the system's roots
	}
	return fallbackRoots(), nil
}

// fallbackRoots parses the embedded NSS roots, once, and only when no other
// store was found: importing x509roots/fallback would parse them at every
// start instead, which showed up as most of webui's startup time.
var fallbackRoots = sync.OnceValue(func() *x509.CertPool {
	p := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			continue
		}
		if c.Constraint == nil {
			p.AddCert(cert)
		} else {
			p.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	return p
})

// fetcher gets files from the feed: http(s) URLs through the client, file
// URLs (an offline manifest) from disk.
type fetcher struct {
	client *http.Client
	// newClient builds the client on first use when client is nil:
	// loading TLS roots costs milliseconds that startup need not pay.
	newClient func() (*http.Client, error)
}

func (f *fetcher) httpClient() (*http.Client, error) {
	if f.client != nil {
		return f.client, nil
	}
	return f.newClient()
}

// get returns the body at rawURL, refusing more than max bytes, within
// timeout.
func (f *fetcher) get(ctx context.Context, rawURL string, max int64, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, _, err := f.open(ctx, rawURL)
	if err != nil {
		return nil, timeoutErr(ctx, rawURL, timeout, err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, timeoutErr(ctx, rawURL, timeout, fmt.Errorf("%s: %w", rawURL, err))
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", rawURL, max)
	}
	return b, nil
}

// open starts reading rawURL. size is the Content-Length, -1 if unknown.
func (f *fetcher) open(ctx context.Context, rawURL string) (io.ReadCloser, int64, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, fmt.Errorf("bad url %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		fh, err := os.Open(u.Path)
		if err != nil {
			return nil, 0, err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, err
		}
		return fh, st.Size(), nil
	case "http", "https":
	default:
		return nil, 0, fmt.Errorf("%s: unsupported scheme %q (http, https or file)", rawURL, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", "webui/"+version.Version+" (self-update)")
	client, err := f.httpClient()
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// timeoutErr makes a deadline say what it was.
func timeoutErr(ctx context.Context, rawURL string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Errorf("%s: no complete answer within %s (the release server is slow or hangs)", rawURL, timeout)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// download copies exactly size bytes from rawURL into w. It fails on a
// short body ("truncated"), on more bytes than size, when nothing arrives
// for stall, and after total. progress hears the running count.
func (f *fetcher) download(ctx context.Context, rawURL string, w io.Writer, size int64, stall, total time.Duration, progress func(int64)) error {
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(stall, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	body, length, err := f.open(ctx, rawURL)
	if err != nil {
		return f.downloadErr(ctx, rawURL, stalled.Load(), stall, total, err)
	}
	defer body.Close()
	if length > size {
		return fmt.Errorf("%s: the server announces %d bytes, the manifest says %d", rawURL, length, size)
	}
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			watchdog.Reset(stall)
			if n+int64(k) > size {
				return fmt.Errorf("%s: more than the %d bytes the manifest says", rawURL, size)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			n += int64(k)
			if progress != nil {
				progress(n)
			}
			pause(PauseDownload)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return f.downloadErr(ctx, rawURL, stalled.Load(), stall, total, fmt.Errorf("truncated download: got %d of %d bytes: %w", n, size, rerr))
		}
	}
	if n != size {
		return fmt.Errorf("%s: truncated download: got %d of %d bytes", rawURL, n, size)
	}
	return nil
}

func (f *fetcher) downloadErr(ctx context.Context, rawURL string, stalled bool, stall, total time.Duration, err error) error {
	switch {
	case stalled:
		return fmt.Errorf("%s: download stalled: nothing received for %s", rawURL, stall)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: download did not finish within %s", rawURL, total)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%s: download cancelled", rawURL)
	}
	return err
}
