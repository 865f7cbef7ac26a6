package server

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/rawconn"
)

// Listener caps the number of open connections and watches the accept loop,
// so that a stuck loop shows up in deep health as degraded rather than ok.
//
// When the cap is reached and a new client connects, the connection that
// has waited longest on its client (for request headers, for a request
// body, or idle on keep-alive) is closed to make room (see conns.go), so
// slow or idle clients cannot lock everyone out. Only when every slot is
// busy serving does Accept wait; that wait is the "stuck" state deep
// health reports once it lasts longer than the stall threshold.
type Listener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	state   AcceptState
	since   time.Time
	lastErr string

	accepted atomic.Int64
	evicted  atomic.Int64

	connMu sync.Mutex
	conns  map[*slotConn]struct{}
}

// AcceptState is where the accept loop is.
type AcceptState string

// The accept loop's states.
const (
	Accepting   AcceptState = "accepting"    // waiting in accept(2): healthy, even when idle
	WaitingSlot AcceptState = "waiting_slot" // at the connection cap
	Dispatching AcceptState = "dispatching"  // a connection was accepted; the loop has not come back yet
	Failing     AcceptState = "failing"      // accept(2) returns errors (EMFILE, ...)
)

// NewListener wraps l with a cap of max open connections.
func NewListener(l net.Listener, max int) *Listener {
	return &Listener{Listener: l, sem: make(chan struct{}, max), done: make(chan struct{}), state: Accepting, since: time.Now(),
		conns: map[*slotConn]struct{}{}}
}

func (l *Listener) set(s AcceptState, err error) {
	l.mu.Lock()
	// "failing" keeps its start time across retries, so a loop that fails
	// continuously is seen as stuck.
	if s != l.state || s != Failing {
		l.since = time.Now()
	}
	l.state = s
	if err != nil {
		l.lastErr = err.Error()
	}
	l.mu.Unlock()
}

// Accept waits for a free slot, then for a connection. At the cap, while
// a client waits in the backlog, it closes the connection that has waited
// longest on its client to make one. Clients it does not take stay in the
// kernel backlog, where a restart hands them to the next image.
func (l *Listener) Accept() (net.Conn, error) {
	if !l.acquire() {
		return nil, net.ErrClosed
	}
	l.set(Accepting, nil)
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		l.set(Failing, err)
		return nil, err
	}
	l.accepted.Add(1)
	l.set(Dispatching, nil)
	sc := &slotConn{Conn: c, l: l}
	if sys, ok := c.(syscall.Conn); ok {
		if rc, err := sys.SyscallConn(); err == nil {
			sc.raw = rawconn.New(rc)
		}
	}
	sc.waiting.Store(time.Now().UnixNano())
	l.connMu.Lock()
	l.conns[sc] = struct{}{}
	l.connMu.Unlock()
	return sc, nil
}

// Close stops accepting and wakes an Accept waiting for a slot.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open is the number of accepted connections not yet closed.
func (l *Listener) Open() int { return len(l.sem) }

// AcceptStatus is the accept loop's health.
type AcceptStatus struct {
	State    AcceptState `json:"state"`
	ForS     float64     `json:"for_s"`
	Stalled  bool        `json:"stalled"`
	Open     int         `json:"open_conns"`
	Max      int         `json:"max_conns"`
	Accepted int64       `json:"accepted"`
	Evicted  int64       `json:"evicted"`
	LastErr  string      `json:"last_error,omitempty"`
}

// Status reports whether the loop is stuck, given how long counts as stuck.
func (l *Listener) Status(stallAfter time.Duration) AcceptStatus {
	l.mu.Lock()
	st := AcceptStatus{State: l.state, ForS: time.Since(l.since).Seconds(), LastErr: l.lastErr}
	l.mu.Unlock()
	st.Open, st.Max, st.Accepted, st.Evicted = len(l.sem), cap(l.sem), l.accepted.Load(), l.evicted.Load()
	st.Stalled = st.State != Accepting && st.ForS > stallAfter.Seconds()
	return st
}

// slotConn gives its slot back exactly once, when closed. It reads and
// writes with raw system calls (see rawconn): an idle server's answer to
// a probe woke its monitor thread with each read and write.
type slotConn struct {
	net.Conn
	raw  *rawconn.IO // nil: through Conn
	l    *Listener
	once sync.Once
	// waiting is when the connection began to wait on its client (unix
	// ns), 0 while the server works for it.
	waiting atomic.Int64
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.connMu.Lock()
		delete(c.l.conns, c)
		c.l.connMu.Unlock()
		<-c.l.sem
	})
	return err
}

func (c *slotConn) Read(b []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Read(b)
	}
	n, err := c.raw.Read(b)
	if err != nil && err != io.EOF {
		err = c.opError("read", err)
	}
	return n, err
}

func (c *slotConn) Write(b []byte) (int, error) {
	if c.raw == nil {
		return c.Conn.Write(b)
	}
	n, err := c.raw.Write(b)
	if err != nil {
		err = c.opError("write", err)
	}
	return n, err
}

// opError wraps err as net.Conn's Read and Write do: net/http tells a
// client that went away from other failures by it.
func (c *slotConn) opError(op string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
