package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"
)

// Path is where the server answers with its Doc.
const Path = "/health"

// Failure says how a probe failed.
type Failure int

// How a probe fails.
const (
	// Unreachable: any other transport error.
	Unreachable Failure = iota
	// Refused: nothing listens there.
	Refused
	// Timeout: it accepted the connection but did not answer in time.
	Timeout
	// BadStatus: it answered with another status than 200.
	BadStatus
	// NotWebui: it answered 200, but not with a webui health document.
	NotWebui
)

// ProbeError says why /health did not answer with a document.
type ProbeError struct {
	Addr    Addr
	Failure Failure
	Status  int // the HTTP status, when it answered
	Err     error
}

func (e *ProbeError) Error() string { return e.Addr.URL(Path) + ": " + e.Err.Error() }
func (e *ProbeError) Unwrap() error { return e.Err }

// IsRefused reports whether err says nothing listens on the address.
func IsRefused(err error) bool { return failure(err) == Refused }

// IsNotWebui reports whether err says something other than webui answers
// HTTP there.
func IsNotWebui(err error) bool { f := failure(err); return f == BadStatus || f == NotWebui }

func failure(err error) Failure {
	var pe *ProbeError
	if errors.As(err, &pe) {
		return pe.Failure
	}
	return -1
}

// DefaultClient keeps no connection open between probes.
var DefaultClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

// Probe asks addr's /health once, giving up after timeout, and returns
// the document of a webui that answers. Otherwise the error is a
// *ProbeError. A nil client is DefaultClient; the wildcard hosts are
// dialed on loopback.
func Probe(ctx context.Context, c *http.Client, addr Addr, timeout time.Duration) (*Doc, error) {
	if c == nil {
		c = DefaultClient
	}
	addr = addr.Dialable()
	if addr.Port == "" {
		return result(addr, 0, nil, errors.New("no address to ask"))
	}
	status, body, err := askWith(ctx, c, addr, timeout)
	return result(addr, status, body, err)
}

// maxDoc bounds what a probe reads: a /health document is a few hundred
// bytes, and whatever answers on the port may not be webui.
const maxDoc = 1 << 20

func askWith(ctx context.Context, c *http.Client, addr Addr, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr.URL(Path), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", "webui-probe")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDoc))
	return resp.StatusCode, body, err
}

// result is the document in an answer, or a *ProbeError that says why
// there is none.
func result(addr Addr, status int, body []byte, err error) (*Doc, error) {
	fail := func(f Failure, status int, err error) (*Doc, error) {
		return nil, &ProbeError{Addr: addr, Failure: f, Status: status, Err: err}
	}
	if err != nil {
		f, _, err := transport(err)
		return fail(f, status, err)
	}
	if status != http.StatusOK {
		return fail(BadStatus, status, fmt.Errorf("answers HTTP %d, not as webui", status))
	}
	var h Doc
	if err := json.Unmarshal(body, &h); err != nil {
		return fail(NotWebui, status, fmt.Errorf("answers HTTP, but not as webui (%v)", err))
	}
	if h.PID <= 0 || h.StartedAt.IsZero() {
		return fail(NotWebui, status, errors.New("answers HTTP, but not as webui (no pid or started_at)"))
	}
	return &h, nil
}

// transport names a client error without the "Get URL:" wrapping (the
// ProbeError names the URL).
func transport(err error) (Failure, int, error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return Timeout, 0, errors.New("no answer in time")
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, 0, errors.New("connection refused")
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return Unreachable, 0, inner
		}
	}
	return Unreachable, 0, err
}
