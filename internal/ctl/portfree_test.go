package ctl

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
)

// `ctl start` on a port another program holds says who holds it, and
// exits 3 (the port is taken) without starting anything.
func TestPortFreeNamesWhatHoldsThePort(t *testing.T) {
	addrOf := func(s string) health.Addr {
		a, err := health.ParseAddr(strings.TrimPrefix(s, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	defer html.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	for _, tc := range []struct {
		name string
		addr health.Addr
		says string // "" = free
	}{
		{"nothing listens", closedAddr(t), ""},
		{"an HTTP server answering 404", addrOf(notFound.URL), "taken by another program"},
		{"an HTTP server answering HTML", addrOf(html.URL), "taken by another program"},
		{"a socket that never answers", addrOf(silent.Addr().String()), "does not answer /health"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := testInstance(t)
			i.Addr = tc.addr
			err := i.portFree(context.Background())
			switch {
			case tc.says == "" && err != nil:
				t.Fatalf("portFree = %v, want free", err)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says) || exitcode.Of(err) != exitcode.Listen):
				t.Fatalf("portFree = %v (exit %d), want exit %d saying %q", err, exitcode.Of(err), exitcode.Listen, tc.says)
			}
		})
	}
}
