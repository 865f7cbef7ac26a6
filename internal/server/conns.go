package server

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// acquire takes a connection slot. At the cap it waits, and every
// evictPoll, if a client waits in the backlog, closes the connection that
// has waited longest on its client.
func (l *Listener) acquire() bool {
	select {
	case l.sem <- struct{}{}:
		return true
	default:
	}
	l.set(WaitingSlot, nil)
	t := time.NewTicker(evictPoll)
	defer t.Stop()
	for {
		if l.pending() {
			l.evictOne()
		}
		select {
		case l.sem <- struct{}{}:
			return true
		case <-l.done:
			return false
		case <-t.C:
		}
	}
}

// pending reports whether a client waits in the listening socket's
// backlog (it polls readable), without accepting it. A listener that
// cannot tell counts as having one.
func (l *Listener) pending() bool {
	sc, ok := l.Listener.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ready := true
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		ready = err != nil || n > 0
	})
	return ready
}

// evictPoll is how often a client at the cap looks again for a slot;
// evictGrace is how long a connection must have waited on its client to
// count as slow: one accepted a moment ago has not had the chance to send
// its request yet. Together they keep a new client's wait well under 1 s.
const (
	evictPoll  = 50 * time.Millisecond
	evictGrace = 250 * time.Millisecond
)

// evictOne closes the connection that has waited longest on its client.
func (l *Listener) evictOne() bool {
	var victim *slotConn
	var since int64
	limit := time.Now().Add(-evictGrace).UnixNano()
	l.connMu.Lock()
	for c := range l.conns {
		if w := c.waiting.Load(); w != 0 && w <= limit && (victim == nil || w < since) {
			victim, since = c, w
		}
	}
	l.connMu.Unlock()
	if victim == nil {
		return false
	}
	l.evicted.Add(1)
	_ = victim.Close()
	return true
}

// ConnState is the http.Server hook that tells which connections wait on
// their client: new ones and idle keep-alives wait for request headers;
// once the headers are in (StateActive) the server works for them, except
// while a handler waits for the body (see waitingBody).
func (l *Listener) ConnState(c net.Conn, s http.ConnState) {
	sc, ok := c.(*slotConn)
	if !ok {
		return
	}
	switch s {
	case http.StateNew, http.StateIdle:
		sc.waiting.Store(time.Now().UnixNano())
	case http.StateActive, http.StateHijacked:
		sc.waiting.Store(0)
	}
}

type connKey struct{}

// ConnContext is the http.Server hook that lets handlers find their
// connection.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// waitingBody marks r's connection as waiting on its client while fn
// reads the body.
func waitingBody(r *http.Request) (begin, end func()) {
	sc, ok := r.Context().Value(connKey{}).(*slotConn)
	if !ok {
		return func() {}, func() {}
	}
	return func() { sc.waiting.Store(time.Now().UnixNano()) }, func() { sc.waiting.Store(0) }
}
