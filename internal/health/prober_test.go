package health

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const okDoc = `{"status":"ok","pid":%d,"started_at":"2026-01-02T03:04:05Z"}`

// countingServer answers /health with pid's document and counts the
// connections it accepted.
func countingServer(t *testing.T, pid int) (Addr, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, okDoc, pid)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a, err := ParseAddr(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return a, &conns
}

// TestProberKeepsConnection: the watchdog's probes share one connection,
// and a probe of another address opens one there.
func TestProberKeepsConnection(t *testing.T) {
	a, conns := countingServer(t, 7)
	b, _ := countingServer(t, 8)
	p := &Prober{}
	defer p.Close()
	for i := 0; i < 5; i++ {
		h, err := p.Probe(context.Background(), a, time.Second)
		if err != nil || h.PID != 7 {
			t.Fatalf("probe %d: %+v, %v", i, h, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 probes opened %d connections, want 1", n)
	}
	if h, err := p.Probe(context.Background(), b, time.Second); err != nil || h.PID != 8 {
		t.Errorf("probe of another address: %+v, %v", h, err)
	}
}

// oneShot answers one request per connection and then closes it without
// saying so, as a server does whose idle timeout ran out between probes.
func oneShot(t *testing.T, answer func(c net.Conn)) (Addr, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					answer(c)
				}
			}()
		}
	}()
	a, _ := ParseAddr(ln.Addr().String())
	return a, &conns
}

// TestProberServerClosedIt: a kept connection the server closed meanwhile
// costs no failed probe; a fresh one takes its place.
func TestProberServerClosedIt(t *testing.T) {
	doc := fmt.Sprintf(okDoc, 9)
	a, conns := oneShot(t, func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(doc), doc)
	})
	p := &Prober{}
	defer p.Close()
	for i := 0; i < 3; i++ {
		if h, err := p.Probe(context.Background(), a, time.Second); err != nil || h.PID != 9 {
			t.Fatalf("probe %d: %+v, %v", i, h, err)
		}
		time.Sleep(20 * time.Millisecond) // the server's close arrives
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 probes of a server that closes each, want 3", n)
	}
}

// TestProberHostileAnswer: whatever took the port may answer without end;
// the probe stops reading at a bound, says why, and long before its
// timeout.
func TestProberHostileAnswer(t *testing.T) {
	endless := func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nX-A: "))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
	body := func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"))
		endless(c)
	}
	for name, answer := range map[string]func(net.Conn){"header": endless, "body": body} {
		t.Run(name, func(t *testing.T) {
			a, _ := oneShot(t, answer)
			p := &Prober{}
			defer p.Close()
			start := time.Now()
			h, err := p.Probe(context.Background(), a, 10*time.Second)
			if h != nil || err == nil || !strings.Contains(err.Error(), "larger than a health document") {
				t.Fatalf("Probe = %+v, %v; want the answer refused as too large", h, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s: the bound should stop it, not the timeout", d)
			}
		})
	}
}

// TestProberCancel: a stop ends a probe that waits on a silent server.
func TestProberCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, _ := ParseAddr(ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	p := &Prober{}
	defer p.Close()
	if _, err := p.Probe(ctx, a, 10*time.Second); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("Probe = %v, want cancelled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a cancelled probe took %s", d)
	}
}
