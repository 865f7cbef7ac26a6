package health

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/rawconn"
)

// Prober asks /health over one connection that it keeps between probes,
// for a process that probes for ever (the watchdog). Safe for concurrent
// use; the zero value is ready.
//
// Each probe is a write and a read on the caller's goroutine, with raw
// system calls (see rawconn): measured on an idle watchdog probing every
// second, half the CPU and under half the context switches of net/http's
// client, which also hands each answer between two goroutines of its own.
type Prober struct {
	mu   sync.Mutex
	addr Addr
	c    net.Conn
	raw  *rawconn.IO
	br   *bufio.Reader
	left int // what this probe may still read: whatever answers may be hostile
}

// maxAnswer bounds one answer, headers and all.
const maxAnswer = maxDoc + 64<<10

// Probe asks addr's /health once, giving up after timeout, as Probe does.
// A kept connection that the server has closed meanwhile (an idle
// timeout, a restart) is replaced once, before anything was read from it.
func (p *Prober) Probe(ctx context.Context, addr Addr, timeout time.Duration) (*Doc, error) {
	addr = addr.Dialable()
	if addr.Port == "" {
		return result(addr, 0, nil, errors.New("no address to ask"))
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c != nil && p.addr != addr {
		p.closeLocked()
	}
	for try := 0; ; try++ {
		reused := p.c != nil
		if !reused {
			if err := p.dial(ctx, addr, deadline); err != nil {
				return result(addr, 0, nil, err)
			}
		}
		status, body, started, keep, err := p.exchange(ctx, addr, deadline)
		if err != nil || !keep {
			p.closeLocked()
		}
		if err != nil && reused && !started && try == 0 && ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			continue // the server closed the kept connection: a fresh one
		}
		return result(addr, status, body, err)
	}
}

func (p *Prober) dial(ctx context.Context, addr Addr, deadline time.Time) error {
	c, err := (&net.Dialer{Deadline: deadline}).DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		c.Close()
		return errors.New("not a TCP connection")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		c.Close()
		return err
	}
	p.addr, p.c, p.raw = addr, c, rawconn.New(rc)
	if p.br == nil {
		p.br = bufio.NewReaderSize(rawReader{p}, 4096)
	} else {
		p.br.Reset(rawReader{p})
	}
	return nil
}

// exchange sends the request and reads the answer. started says whether
// any of the answer arrived: before that, a closed connection may simply
// have been closed by the server while it idled. keep: the connection
// may carry the next probe.
func (p *Prober) exchange(ctx context.Context, addr Addr, deadline time.Time) (status int, body []byte, started, keep bool, err error) {
	// The deadline is taken off again before returning: a timer left
	// behind would wake the process when it fired.
	c := p.c
	p.left = maxAnswer
	if err := c.SetDeadline(deadline); err != nil {
		return 0, nil, false, false, err
	}
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	// A cancelled ctx (a stop) ends the wait as the deadline would.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := "GET " + Path + " HTTP/1.1\r\nHost: " + addr.String() + "\r\nUser-Agent: webui-probe\r\n\r\n"
	if _, err := p.raw.Write([]byte(req)); err != nil {
		return 0, nil, false, false, ctxErr(ctx, err)
	}
	if _, err := p.br.Peek(1); err != nil {
		return 0, nil, false, false, ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		return 0, nil, true, false, ctxErr(ctx, err)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxDoc+1))
	if err != nil {
		return resp.StatusCode, nil, true, false, ctxErr(ctx, err)
	}
	if len(body) > maxDoc {
		return resp.StatusCode, nil, true, false, errTooLarge
	}
	return resp.StatusCode, body, true, resp.StatusCode == http.StatusOK && !resp.Close, nil
}

// Close drops the kept connection.
func (p *Prober) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
}

func (p *Prober) closeLocked() {
	if p.c != nil {
		p.c.Close()
		p.c, p.raw = nil, nil
	}
}

// ctxErr prefers the context's reason: a stop shows as cancelled, not as
// the deadline the cancel set to end the wait.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// rawReader reads the Prober's connection (see rawconn), no more than the
// probe may still read.
type rawReader struct{ p *Prober }

// errTooLarge: the answer went on past maxAnswer.
var errTooLarge = errors.New("the answer is larger than a health document")

func (r rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if r.p.left <= 0 {
		return 0, errTooLarge
	}
	n, err := r.p.raw.Read(b[:min(len(b), r.p.left)])
	r.p.left -= n
	return n, err
}
