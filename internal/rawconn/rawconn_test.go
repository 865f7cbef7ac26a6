package rawconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair is a connected TCP pair: a raw IO on one end, the other plain.
func pair(t *testing.T) (*IO, net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			peer <- nil
			return
		}
		peer <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p := <-peer
	if p == nil {
		t.Fatal("no peer")
	}
	t.Cleanup(func() { c.Close(); p.Close() })
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return New(rc), c, p
}

// TestRoundTrip: what one end writes raw the other reads, larger than a
// socket buffer (so writes wait in the poller), and back; EOF at the end.
func TestRoundTrip(t *testing.T) {
	x, c, p := pair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(p, int64(len(big))))
		got <- b
	}()
	if n, err := x.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the peer read %d bytes, not what was written", len(b))
	}
	if _, err := p.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	p.Close()
	b, err := io.ReadAll(readerFunc(x.Read))
	if err != nil || string(b) != "pong" {
		t.Fatalf("read %q, %v", b, err)
	}
	if n, err := x.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the peer closed: %d, %v; want EOF", n, err)
	}
	_ = c
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// TestDeadline: a read with nothing to read ends at the deadline, as
// net.Conn's does, and a closed socket says so.
func TestDeadline(t *testing.T) {
	x, c, _ := pair(t)
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := x.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the deadline took %s", d)
	}
	c.Close()
	if _, err := x.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on a closed socket = %v, want net.ErrClosed", err)
	}
}

// TestPeerGone: writing to a peer that reset the connection is an error;
// the SIGPIPE the kernel raises with it does not end the process.
func TestPeerGone(t *testing.T) {
	x, _, p := pair(t)
	_ = p.(*net.TCPConn).SetLinger(0)
	p.Close() // RST
	time.Sleep(20 * time.Millisecond)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = x.Write(bytes.Repeat([]byte("x"), 64<<10))
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Write to a reset peer = %v, want EPIPE or ECONNRESET", err)
	}
}

// TestNoAllocs: a read and a write allocate nothing.
func TestNoAllocs(t *testing.T) {
	x, _, p := pair(t)
	b := make([]byte, 64)
	go func() { _, _ = io.Copy(p, p) }() // echo
	if n := testing.AllocsPerRun(100, func() {
		if _, err := x.Write(b); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < len(b); {
			n, err := x.Read(b[got:])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}); n != 0 {
		t.Errorf("%v allocations per write and read", n)
	}
}
