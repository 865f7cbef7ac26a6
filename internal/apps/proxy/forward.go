package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// reqInfo travels in the request's context from ServeHTTP to the rewrite,
// the transport and the error handler.
type reqInfo struct {
	route      Route
	holdUntil  time.Time
	proto      string
	clientHost string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

// forward holds the request while the app is not ready, then proxies it.
func (t *Table) forward(w http.ResponseWriter, r *http.Request, route Route) {
	info := &reqInfo{route: route, holdUntil: time.Now().Add(t.o.HoldTimeout), proto: t.scheme(r), clientHost: r.Host}
	if route.Wait != nil {
		ctx, cancel := context.WithDeadline(r.Context(), info.holdUntil)
		ready, state, verdict := route.Wait(ctx)
		cancel()
		if !ready {
			if r.Context().Err() == nil {
				t.failPage(w, r, http.StatusServiceUnavailable, route.Name, state, verdict)
			}
			return
		}
	}
	t.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
}

func (t *Table) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   t.rewrite,
		Transport: &holdTransport{t: t, base: t.tr},
		// 0, as Caddy's default: httputil already flushes every write of a
		// text/event-stream or unknown-length (chunked) answer at once, and
		// the header of one; a -1 here would cost every small answer an
		// extra write of its header alone.
		FlushInterval:  0,
		BufferPool:     bufPool{},
		ErrorLog:       log.New(logWriter{t.o.ErrorLog}, "", 0),
		ModifyResponse: t.modifyResponse,
		ErrorHandler:   t.proxyError,
	}
}

func (t *Table) rewrite(pr *httputil.ProxyRequest) {
	info := infoFrom(pr.In.Context())
	out := pr.Out
	out.URL.Scheme = "http"
	out.URL.Host = "" // the transport fills in the app's address
	if info.route.StripPrefix {
		rest := strings.TrimPrefix(pr.In.URL.Path, info.route.Prefix)
		out.URL.Path = "/" + rest
		out.URL.RawPath = ""
		if raw := pr.In.URL.RawPath; raw != "" && strings.HasPrefix(raw, info.route.Prefix) {
			out.URL.RawPath = "/" + strings.TrimPrefix(raw, info.route.Prefix)
		}
	}
	// The app sees the client's Host (Rewrite keeps Out.Host), as Caddy does:
	// Origin-against-Host checks on websockets then pass.
	if prior, ok := pr.In.Header["X-Forwarded-For"]; ok {
		out.Header["X-Forwarded-For"] = append([]string(nil), prior...)
	}
	pr.SetXForwarded()
	out.Header.Set("X-Forwarded-Proto", info.proto)
	out.Header.Set("X-Forwarded-Prefix", strings.TrimSuffix(info.route.Prefix, "/"))
	if len(t.cookies) > 0 {
		dropCookies(out.Header, t.cookies)
	}
	if t.o.StripCredentials != nil {
		t.o.StripCredentials(out)
	}
}

func (t *Table) modifyResponse(res *http.Response) error {
	info := infoFrom(res.Request.Context())
	if info == nil {
		return nil
	}
	lc := locCtx{
		prefix:       info.route.Prefix,
		strip:        info.route.StripPrefix,
		upstreamHost: res.Request.URL.Host,
		clientHost:   info.clientHost,
		proto:        info.proto,
	}
	if loc := res.Header.Get("Location"); loc != "" {
		if n := rewriteLocation(loc, lc); n != loc {
			res.Header.Set("Location", n)
		}
	}
	if cs := res.Header["Set-Cookie"]; len(cs) > 0 {
		res.Header["Set-Cookie"] = rewriteSetCookies(cs, lc, t.cookies)
	}
	return nil
}

// proxyError answers a request the app did not: the client learns the
// app's name, state and verdict; the log gets the error itself.
func (t *Table) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoFrom(r.Context())
	name := ""
	if info != nil {
		name = info.route.Name
	}
	if r.Context().Err() != nil {
		return // the client left; nobody reads an answer
	}
	var he *holdError
	var ne net.Error
	switch {
	case errors.As(err, &he):
		t.o.ErrorLog.WithField("app", name).Warnf("app not ready after %s: %v", t.o.HoldTimeout, he.err)
		t.failPage(w, r, http.StatusServiceUnavailable, name, he.state, he.verdict)
	case errors.As(err, &ne) && ne.Timeout():
		t.o.ErrorLog.WithField("app", name).Warnf("app did not answer: %v", err)
		t.failPage(w, r, http.StatusGatewayTimeout, name, "running", "no answer in time")
	default:
		t.o.ErrorLog.WithField("app", name).Warnf("proxy: %v", err)
		state := "running"
		if isRefused(err) {
			state = "not listening"
		}
		t.failPage(w, r, http.StatusBadGateway, name, state, "")
	}
}

func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                  nil, // never an HTTP_PROXY from the environment
		DialContext:            dial,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		ResponseHeaderTimeout:  headerTimeout,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true, // pass the client's Accept-Encoding through untouched
		ExpectContinueTimeout:  time.Second,
	}
}

// bufPool recycles the 32 KiB copy buffers httputil otherwise allocates
// per response.
type bufPool struct{}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufPool) Get() []byte  { return *copyBufs.Get().(*[]byte) }
func (bufPool) Put(b []byte) { copyBufs.Put(&b) }

// target is where an app listens, as the transport sees it.
type target struct{ host string }

var errNoUpstream = errors.New("app has no address yet")

// target resolves a route's upstream. A unix socket gets a made-up URL host
// (its own connection pool) that dial maps back to the path.
func (t *Table) target(r Route) (target, error) {
	if r.Upstream == nil {
		return target{}, errNoUpstream
	}
	up := r.Upstream()
	if up == "" {
		return target{}, errNoUpstream
	}
	if path, ok := strings.CutPrefix(up, "unix:"); ok {
		if path == "" {
			return target{}, fmt.Errorf("upstream %q: empty socket path", up)
		}
		sum := sha256.Sum256([]byte(path))
		host := "sock-" + hex.EncodeToString(sum[:8]) + ".invalid"
		t.socks.Store(host, path)
		return target{host: host}, nil
	}
	u, err := url.Parse(up)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return target{}, fmt.Errorf("upstream %q: want http://HOST:PORT or unix:PATH", up)
	}
	return target{host: u.Host}, nil
}

// dialError marks a failure to connect: no byte of the request was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

func (t *Table) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if p, ok := t.socks.Load(host); ok {
			network, addr = "unix", p.(string)
		}
	}
	c, err := t.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &dialError{err}
	}
	return c, nil
}

// isRefused: the app is not there (yet, or any more).
func isRefused(err error) bool {
	var de *dialError
	return errors.Is(err, errNoUpstream) || errors.As(err, &de)
}
