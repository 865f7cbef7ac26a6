package server

import (
	"context"
	"net"
	"net/http"
	"time"
)

// acquire takes a connection slot for a client that just connected. At
// the cap it closes the connection that has waited longest on its client,
// and otherwise waits for a slot, looking again for such a connection
// every evictPoll.
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
		l.evictOne()
		select {
		case l.sem <- struct{}{}:
			l.set(Dispatching, nil)
			return true
		case <-l.done:
			return false
		case <-t.C:
		}
	}
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
