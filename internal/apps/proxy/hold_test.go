package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// serveLater starts an echo server on addr after d.
func serveLater(t *testing.T, addr string, d time.Duration, up func()) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(echoHandler)}
	t.Cleanup(func() { srv.Close() })
	go func() {
		time.Sleep(d)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen %s: %v", addr, err)
			return
		}
		if up != nil {
			up()
		}
		_ = srv.Serve(ln)
	}()
}

func TestHoldWhileStarting(t *testing.T) {
	addr := freeAddr(t)
	ready := make(chan struct{})
	serveLater(t, addr, 300*time.Millisecond, func() { close(ready) })
	wait := func(ctx context.Context) (bool, string, string) {
		select {
		case <-ready:
			return true, "running", ""
		case <-ctx.Done():
			return false, "starting", ""
		}
	}
	_, fe := front(t, Options{}, Route{Name: "n", Prefix: "/n/", StripPrefix: true,
		Upstream: func() string { return "http://" + addr }, Wait: wait})
	if s := getSeen(t, mustReq("GET", fe.URL+"/n/hi", nil)); s.Path != "/hi" {
		t.Errorf("held request reached %q", s.Path)
	}
}

func TestHoldTimeoutPage(t *testing.T) {
	wait := func(ctx context.Context) (bool, string, string) {
		<-ctx.Done()
		return false, "backoff", "crash"
	}
	_, fe := front(t, Options{HoldTimeout: 200 * time.Millisecond}, Route{Name: "notes", Prefix: "/notes/", StripPrefix: true,
		Upstream: func() string { return "http://" + freeAddr(t) }, Wait: wait})
	res, err := http.Get(fe.URL + "/notes/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s, want a 503 page", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"notes", "backoff", "crash"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %q: %s", want, b)
		}
	}
	req := mustReq("GET", fe.URL+"/notes/", nil)
	req.Header.Set("Accept", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	err = json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if err != nil || res.StatusCode != 503 || doc["app"] != "notes" || doc["state"] != "backoff" || doc["verdict"] != "crash" {
		t.Errorf("JSON: %d %v %v", res.StatusCode, doc, err)
	}
}

// The app died and its supervisor has not noticed: Wait still says ready,
// the dial is refused. The request waits and goes to the app's new port.
func TestRefusedDialWaitsAndRetries(t *testing.T) {
	dead, next := freeAddr(t), freeAddr(t)
	var cur atomic.Value
	cur.Store(dead)
	serveLater(t, next, 300*time.Millisecond, func() { cur.Store(next) })
	var waits atomic.Int32
	wait := func(ctx context.Context) (bool, string, string) {
		waits.Add(1)
		return true, "running", ""
	}
	_, fe := front(t, Options{ErrorLog: testLog(t)}, Route{Name: "n", Prefix: "/n/", StripPrefix: true,
		Upstream: func() string { return "http://" + cur.Load().(string) }, Wait: wait})
	s := getSeen(t, mustReq("POST", fe.URL+"/n/save", strings.NewReader("the body")))
	if s.Body != "the body" || s.Path != "/save" {
		t.Errorf("retried request: %+v", s)
	}
	if waits.Load() < 2 {
		t.Errorf("Wait called %d times, want it asked again after the refused dial", waits.Load())
	}
}

// Without a Wait (a plain proxy) a refused dial fails at once, with no
// address or error text on the page.
func TestRefusedWithoutWait(t *testing.T) {
	addr := freeAddr(t)
	_, fe := front(t, Options{}, Route{Name: "p", Prefix: "/p/", StripPrefix: true, Upstream: func() string { return "http://" + addr }})
	t0 := time.Now()
	res, err := http.Get(fe.URL + "/p/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || strings.Contains(string(b), addr) || strings.Contains(string(b), "refused") {
		t.Errorf("%d %s", res.StatusCode, b)
	}
	if time.Since(t0) > 5*time.Second {
		t.Errorf("took %s", time.Since(t0))
	}
}

func testLog(t *testing.T) logrus.FieldLogger {
	l := logrus.New()
	l.Out = tWriter{t}
	return l
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Wait keeps saying ready while nothing listens: the request gives up when
// the hold runs out, without spinning on Wait.
func TestRefusedUntilHoldRunsOut(t *testing.T) {
	addr := freeAddr(t)
	var waits atomic.Int32
	wait := func(ctx context.Context) (bool, string, string) {
		waits.Add(1)
		return true, "running", "clean_exit"
	}
	_, fe := front(t, Options{HoldTimeout: 400 * time.Millisecond}, Route{Name: "n", Prefix: "/n/", StripPrefix: true,
		Upstream: func() string { return "http://" + addr }, Wait: wait})
	res, body := do(t, "GET", fe.URL+"/n/", nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "running") || !strings.Contains(body, "clean_exit") {
		t.Errorf("%d %q, want 503 with the state and verdict", res.StatusCode, body)
	}
	if n := waits.Load(); n > 20 {
		t.Errorf("Wait called %d times in 400 ms: a busy loop", n)
	}
}
