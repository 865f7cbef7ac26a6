package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A request with both Content-Length and Transfer-Encoding is the classic
// smuggling vector: two parsers that frame it differently disagree on where
// the next request starts. net/http does not refuse it: it frames by the
// chunked encoding alone and drops Content-Length (RFC 9112 6.3), and the
// transport re-frames what it sends. So the app gets the body as chunked
// framing says, no Content-Length, and the request behind it only as the
// client's next request, answered on its own.
func TestSmugglingFramedOneWay(t *testing.T) {
	type got struct{ path, cl, body string }
	var mu sync.Mutex
	var seenReqs []got
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seenReqs = append(seenReqs, got{r.URL.Path, r.Header.Get("Content-Length"), string(b)})
		mu.Unlock()
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer be.Close()
	_, fe := front(t, Options{}, Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: upstreamOf(be)})
	c, err := net.Dial("tcp", strings.TrimPrefix(fe.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// By Content-Length the body is "3\r\nab"; by chunked framing "abc".
	io.WriteString(c, "POST /n/first HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"3\r\nabc\r\n0\r\n\r\n"+
		"GET /n/second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(c)
	var answers []string
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answers = append(answers, string(b))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []got{{"/first", "", "abc"}, {"/second", "", ""}}
	if len(seenReqs) != 2 || seenReqs[0] != want[0] || seenReqs[1] != want[1] {
		t.Errorf("the app got %+v, want %+v", seenReqs, want)
	}
	if len(answers) != 2 || answers[0] != "ok /first" || answers[1] != "ok /second" {
		t.Errorf("the client got %q: proxy and client disagree on framing", answers)
	}
}

func TestHostileUpstreams(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			w.Header().Set("X-Big", strings.Repeat("a", 2<<20))
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer be.Close()
	_, fe := front(t, Options{ResponseHeaderTimeout: 300 * time.Millisecond},
		Route{Name: "evil", Prefix: "/e/", StripPrefix: true, Upstream: upstreamOf(be)})
	for p, want := range map[string]int{"/e/huge": http.StatusBadGateway, "/e/hang": http.StatusGatewayTimeout} {
		res, body := do(t, "GET", fe.URL+p, nil)
		if res.StatusCode != want || !strings.Contains(body, "evil") || strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s: %d %q, want %d naming the app and no address", p, res.StatusCode, body, want)
		}
	}
}

// Hop-by-hop headers stop at the proxy, both ways.
func TestHopByHopHeadersRemoved(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-App-Hop")
		w.Header().Set("X-App-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=1")
		echoHandler(w, r)
	}))
	defer be.Close()
	_, fe := front(t, Options{}, Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: upstreamOf(be)})
	req := mustReq("GET", fe.URL+"/n/", nil)
	req.Header.Set("Connection", "X-Secret-Hop")
	req.Header.Set("X-Secret-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic eA==")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("X-App-Hop") != "" || res.Header.Get("Keep-Alive") != "" {
		t.Errorf("the client got the app's hop-by-hop headers: %v", res.Header)
	}
	s := getSeen(t, func() *http.Request {
		r := mustReq("GET", fe.URL+"/n/", nil)
		r.Header = req.Header.Clone()
		return r
	}())
	if s.Header.Get("X-Secret-Hop") != "" || s.Header.Get("Proxy-Authorization") != "" {
		t.Errorf("the app got hop-by-hop headers: %v", s.Header)
	}
}

func TestDotDotRefused(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer be.Close()
	_, fe := front(t, Options{}, Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: upstreamOf(be)})
	c, err := net.Dial("tcp", strings.TrimPrefix(fe.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /n/../api/diag HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("/n/../api/diag: %d, want 400", res.StatusCode)
	}
}
