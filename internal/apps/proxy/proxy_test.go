package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seen is what a backend reports about the request it got.
type seen struct {
	Path   string      `json:"path"`
	Raw    string      `json:"raw"`
	Query  string      `json:"query"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seen{r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, r.Header, string(b)})
}

func upstreamOf(s *httptest.Server) func() string {
	return func() string { return s.URL }
}

// front serves a Table with the given routes.
func front(t *testing.T, o Options, routes ...Route) (*Table, *httptest.Server) {
	t.Helper()
	tb := New(o)
	tb.Set(routes)
	s := httptest.NewServer(tb)
	t.Cleanup(s.Close)
	return tb, s
}

func getSeen(t *testing.T, req *http.Request) seen {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, res.StatusCode, b)
	}
	var s seen
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestPrefixAndForwardedHeaders(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer be.Close()
	_, fe := front(t, Options{},
		Route{Name: "notes", Prefix: "/notes/", StripPrefix: true, Upstream: upstreamOf(be)},
		Route{Name: "jup", Prefix: "/jup", StripPrefix: false, Upstream: upstreamOf(be)},
		Route{Name: "deep", Prefix: "/notes/deep/", StripPrefix: true, Upstream: upstreamOf(be)},
	)
	req, _ := http.NewRequest("GET", fe.URL+"/notes/a/b%2Fc?x=1", nil)
	req.Header.Set("X-Forwarded-For", "10.0.0.9")
	req.Host = "phone.example:8787"
	s := getSeen(t, req)
	if s.Path != "/a/b/c" || s.Raw != "/a/b%2Fc" || s.Query != "x=1" {
		t.Errorf("path %q raw %q query %q, want /a/b/c, /a/b%%2Fc, x=1", s.Path, s.Raw, s.Query)
	}
	if s.Host != "phone.example:8787" {
		t.Errorf("the app saw Host %q, want the client's", s.Host)
	}
	for k, want := range map[string]string{
		"X-Forwarded-Prefix": "/notes",
		"X-Forwarded-For":    "10.0.0.9, 127.0.0.1",
		"X-Forwarded-Proto":  "http",
		"X-Forwarded-Host":   "phone.example:8787",
	} {
		if got := strings.Join(s.Header.Values(k), ", "); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	s = getSeen(t, mustReq("GET", fe.URL+"/jup/api/x", nil))
	if s.Path != "/jup/api/x" || s.Header.Get("X-Forwarded-Prefix") != "/jup" {
		t.Errorf("strip off: path %q prefix %q", s.Path, s.Header.Get("X-Forwarded-Prefix"))
	}
	if s = getSeen(t, mustReq("GET", fe.URL+"/notes/deep/q", nil)); s.Path != "/q" || s.Header.Get("X-Forwarded-Prefix") != "/notes/deep" {
		t.Errorf("longest prefix: path %q prefix %q", s.Path, s.Header.Get("X-Forwarded-Prefix"))
	}
	// The prefix without its slash redirects, keeping the query.
	res, err := noRedirect().Get(fe.URL + "/notes?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != "/notes/?x=1" {
		t.Errorf("/notes: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/other/", "/notesx/"} {
		res, _ := http.Get(fe.URL + p)
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

func mustReq(method, u string, body io.Reader) *http.Request {
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		panic(err)
	}
	return r
}

func TestSchemeFromFrontDoor(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer be.Close()
	_, fe := front(t, Options{Scheme: func(*http.Request) string { return "https" }},
		Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: upstreamOf(be)})
	req := mustReq("GET", fe.URL+"/n/", nil)
	req.Header.Set("X-Forwarded-Proto", "gopher")
	if s := getSeen(t, req); s.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto %q, want the front door's https", s.Header.Get("X-Forwarded-Proto"))
	}
}

func TestRedirectsAndCookiesRewritten(t *testing.T) {
	var beHost string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		to = strings.ReplaceAll(to, "UPSTREAM", beHost)
		if c := r.URL.Query().Get("cookie"); c != "" {
			w.Header().Add("Set-Cookie", c)
			w.Header().Add("Set-Cookie", "webui_session=planted; Path=/")
		}
		if to != "" {
			w.Header().Set("Location", to)
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer be.Close()
	beHost = strings.TrimPrefix(be.URL, "http://")
	_, fe := front(t, Options{CookieNames: []string{"webui_session"}},
		Route{Name: "notes", Prefix: "/notes/", StripPrefix: true, Upstream: upstreamOf(be)},
		Route{Name: "jup", Prefix: "/jup/", StripPrefix: false, Upstream: upstreamOf(be)})
	feHost := strings.TrimPrefix(fe.URL, "http://")
	cases := []struct{ prefix, to, want string }{
		{"/notes/", "/login?next=/x", "/notes/login?next=/x"},
		{"/notes/", "/notes/login", "/notes/login"},
		{"/notes/", "login", "login"},
		{"/notes/", "http://UPSTREAM/a?b=1#c", "http://" + feHost + "/notes/a?b=1#c"},
		{"/notes/", "http://" + feHost + "/login", "http://" + feHost + "/notes/login"},
		{"/notes/", "https://example.com/x", "https://example.com/x"},
		{"/notes/", "//example.com/x", "//example.com/x"},
		{"/jup/", "/jup/tree", "/jup/tree"},
		{"/jup/", "http://UPSTREAM/jup/tree", "http://" + feHost + "/jup/tree"},
	}
	for _, c := range cases {
		res, err := noRedirect().Get(fe.URL + c.prefix + "r?to=" + url.QueryEscape(c.to))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Location"); got != c.want {
			t.Errorf("%s Location %q: got %q, want %q", c.prefix, c.to, got, c.want)
		}
	}
	res, err := http.Get(fe.URL + "/notes/c?cookie=" + url.QueryEscape("sid=1; Path=/; HttpOnly"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "sid=1; Path=/notes/; HttpOnly" {
		t.Errorf("Set-Cookie %q, want the app's cookie under /notes/ and webui's name dropped", got)
	}
}

func TestSSEFirstEventAtOnce(t *testing.T) {
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	}))
	defer be.Close()
	defer close(release)
	_, fe := front(t, Options{}, Route{Name: "s", Prefix: "/s/", StripPrefix: true, Upstream: upstreamOf(be)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(mustReq("GET", fe.URL+"/s/events", nil).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v: it must arrive while the app holds the second", line, err)
	}
}

func TestChunkedStreamsAndClientLeaving(t *testing.T) {
	gone := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part1\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(gone)
	}))
	defer be.Close()
	_, fe := front(t, Options{}, Route{Name: "c", Prefix: "/c/", StripPrefix: true, Upstream: upstreamOf(be)})
	ctx, cancel := context.WithCancel(context.Background())
	res, err := http.DefaultClient.Do(mustReq("GET", fe.URL+"/c/", nil).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(res.Body).ReadString('\n'); line != "part1\n" {
		t.Fatalf("first chunk %q", line)
	}
	cancel()
	res.Body.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the app's request was not cancelled when the client left")
	}
}

func TestUnixSocketUpstream(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	be := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(echoHandler)}}
	be.Start()
	defer be.Close()
	missing := filepath.Join(dir, "missing.sock")
	_, fe := front(t, Options{},
		Route{Name: "u", Prefix: "/u/", StripPrefix: true, Upstream: func() string { return "unix:" + sock }},
		Route{Name: "gone", Prefix: "/gone/", StripPrefix: true, Upstream: func() string { return "unix:" + missing }})
	req := mustReq("POST", fe.URL+"/u/x", strings.NewReader("hello"))
	req.Host = "phone:1"
	if s := getSeen(t, req); s.Path != "/x" || s.Body != "hello" || s.Host != "phone:1" {
		t.Errorf("over the socket: %+v", s)
	}
	res, err := http.Get(fe.URL + "/gone/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway || strings.Contains(string(b), dir) || !strings.Contains(string(b), "gone") {
		t.Errorf("missing socket: %d %s; want 502 naming the app and not the path", res.StatusCode, b)
	}
}

func TestCredentialsNeverReachTheApp(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer be.Close()
	strip := func(r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			r.Header.Del("Authorization")
		}
	}
	_, fe := front(t, Options{StripCredentials: strip, CookieNames: []string{"webui_session"}},
		Route{Name: "n", Prefix: "/n/", StripPrefix: true, Upstream: upstreamOf(be)})
	req := mustReq("GET", fe.URL+"/n/", nil)
	req.Header.Set("Authorization", "Bearer owner-token")
	req.Header.Add("Cookie", "a=1; webui_session=secret")
	req.Header.Add("Cookie", "webui_session=again; b=2")
	s := getSeen(t, req)
	if s.Header.Get("Authorization") != "" {
		t.Errorf("the app saw Authorization %q", s.Header.Get("Authorization"))
	}
	if c := strings.Join(s.Header.Values("Cookie"), "; "); c != "a=1; b=2" {
		t.Errorf("the app saw cookies %q, want a=1; b=2", c)
	}
	req = mustReq("GET", fe.URL+"/n/", nil)
	req.Header.Set("Cookie", "webui_session=only")
	if s := getSeen(t, req); len(s.Header.Values("Cookie")) != 0 {
		t.Errorf("the app saw cookies %q", s.Header.Values("Cookie"))
	}
}

func TestReloadWhileServing(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a") }))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") }))
	defer b.Close()
	one := []Route{{Name: "x", Prefix: "/x/", StripPrefix: true, Upstream: upstreamOf(a)}}
	two := []Route{{Name: "x", Prefix: "/x/", StripPrefix: true, Upstream: upstreamOf(b)}, {Name: "y", Prefix: "/y/", Upstream: upstreamOf(a)}}
	tb, fe := front(t, Options{}, one...)
	var wg sync.WaitGroup
	var bad atomic.Int32
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := http.Get(fe.URL + "/x/")
				if err != nil {
					bad.Add(1)
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || (string(body) != "a" && string(body) != "b") {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 200 {
		if i%2 == 0 {
			tb.Set(two)
		} else {
			tb.Set(one)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d requests failed across reloads", bad.Load())
	}
	if r, ok := tb.Match("/y/z"); ok && r.Name != "y" {
		t.Errorf("Match after reload: %+v", r)
	}
}
