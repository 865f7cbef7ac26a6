package server

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/logging"
)

// A client that connects before the handler exists is answered, by the
// handler, once it is there; not before, and not with an error.
func TestEarlyHoldsRequestsForTheHandler(t *testing.T) {
	cfg := &config.Config{Addr: "127.0.0.1:0", MaxConns: 8, ReadHeaderTime: 5 * time.Second, MaxHeaderBytes: 1 << 16}
	lg, err := logging.New(logging.Options{Level: "error"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ListenEarly(cfg, nil, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + e.ss.ln.Addr().String() + "/health")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	select {
	case g := <-got:
		t.Fatalf("answered before there was a handler: %q", g)
	case <-time.After(200 * time.Millisecond):
	}
	e.gate.open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("from the handler")) }))
	select {
	case g := <-got:
		if g != "from the handler" {
			t.Fatalf("answer: %q", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer once the handler was there")
	}
}
