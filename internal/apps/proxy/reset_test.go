package proxy

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// resetFirst is a listener whose first n connections are reset unread, as
// a dying app's kernel resets the connections waiting in its backlog.
type resetFirst struct {
	net.Listener
	n atomic.Int32
}

func (l *resetFirst) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.n.Add(-1) < 0 {
			return c, err
		}
		time.Sleep(20 * time.Millisecond) // the request arrives, unread
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
}

func resettingApp(t *testing.T, resets int32) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &resetFirst{Listener: ln}
	rl.n.Store(resets)
	srv := &http.Server{Handler: http.HandlerFunc(echoHandler)}
	go func() { _ = srv.Serve(rl) }()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// A bodiless request reset by a dying app is sent once more and reaches
// the app; a second reset, or a request with a body, is not retried.
func TestResetBeforeAnswerRetriedOnce(t *testing.T) {
	route := func(addr string) Route {
		return Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: func() string { return "http://" + addr },
			Wait: func(context.Context) (bool, string, string) { return true, "running", "" }}
	}
	_, fe := front(t, Options{ErrorLog: testLog(t)}, route(resettingApp(t, 1)))
	if s := getSeen(t, mustReq("GET", fe.URL+"/n/after-reset", nil)); s.Path != "/after-reset" {
		t.Errorf("the retried GET reached %q", s.Path)
	}
	_, fe = front(t, Options{ErrorLog: testLog(t)}, route(resettingApp(t, 2)))
	if res, _ := do(t, "GET", fe.URL+"/n/", nil); res.StatusCode != http.StatusBadGateway {
		t.Errorf("a GET reset twice: %d, want 502", res.StatusCode)
	}
	_, fe = front(t, Options{ErrorLog: testLog(t)}, route(resettingApp(t, 1)))
	res, err := http.Post(fe.URL+"/n/save", "text/plain", strings.NewReader("the body"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("a POST with a body reset by the app: %d, want 502 (not sent again)", res.StatusCode)
	}
}
