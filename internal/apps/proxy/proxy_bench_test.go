package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkProxyHealth is one small GET through the proxy, parallel
// clients on kept-alive connections (go test -bench Proxy -cpuprofile).
func BenchmarkProxyHealth(b *testing.B) {
	body := []byte(`{"status":"ok"}` + "\n")
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer be.Close()
	tb := New(Options{})
	tb.Set([]Route{{Name: "app", Prefix: "/app/", StripPrefix: true, Upstream: func() string { return be.URL }}})
	fe := httptest.NewServer(tb)
	defer fe.Close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := cl.Get(fe.URL + "/app/health")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}
