package update

import (
	"bytes"
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseResolvConf(t *testing.T) {
	t.Parallel()
	conf := `# Termux's resolv-conf package
nameserver 8.8.8.8
; a comment
nameserver   2001:4860:4860::8888
nameserver fe80::1%wlan0
nameserver not-an-ip
search example.org
options ndots:1
nameserver
  nameserver 1.1.1.1  # trailing
`
	got := ParseResolvConf([]byte(conf))
	want := []string{"8.8.8.8", "2001:4860:4860::8888", "fe80::1%wlan0", "1.1.1.1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ParseResolvConf(nil); len(got) != 0 {
		t.Errorf("empty: %q", got)
	}
}

func TestResolverTermux(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc-resolv.conf")
	// With /etc/resolv.conf present, Go's own resolver is used.
	os.WriteFile(etc, []byte("nameserver 127.0.0.1\n"), 0o644)
	if r := Resolver(etc, dir); r != nil {
		t.Error("custom resolver although /etc/resolv.conf exists")
	}
	os.Remove(etc)

	// Without it and without Termux's file: a clear error, no public DNS.
	r := Resolver(etc, dir)
	if r == nil || !r.PreferGo {
		t.Fatal("no pure-Go resolver for Termux")
	}
	_, err := r.Dial(context.Background(), "udp", "[::1]:53")
	if err == nil || !strings.Contains(err.Error(), "pkg install resolv-conf") || !strings.Contains(err.Error(), filepath.Join(dir, "etc", "resolv.conf")) {
		t.Errorf("missing resolv.conf: %v", err)
	}

	// With $PREFIX/etc/resolv.conf: its nameserver is dialled, whatever
	// address the Go resolver asked for.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644)
	r = Resolver(etc, dir)
	c, err := r.Dial(context.Background(), "udp", "[::1]:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != "127.0.0.1:53" {
		t.Errorf("dialled %s, want the Termux nameserver 127.0.0.1:53 (test listener on %s)", c.RemoteAddr(), port)
	}
}

func TestRootCAs(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	dir := t.TempDir()
	if _, err := RootCAs(env(map[string]string{"SSL_CERT_FILE": filepath.Join(dir, "missing.pem")})); err == nil {
		t.Error("missing SSL_CERT_FILE accepted")
	}
	os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("junk"), 0o644)
	if _, err := RootCAs(env(map[string]string{"SSL_CERT_FILE": filepath.Join(dir, "junk.pem")})); err == nil {
		t.Error("SSL_CERT_FILE without certificates accepted")
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	// Termux's ca-certificates file, found through $PREFIX.
	os.MkdirAll(filepath.Join(dir, "etc", "tls"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "tls", "cert.pem"), certPEM, 0o644)
	pool, err := RootCAs(env(map[string]string{"PREFIX": dir}))
	if err != nil || pool == nil {
		t.Fatalf("termux roots: %v %v", pool, err)
	}
	// The client built on it trusts the server.
	c, err := NewHTTPClient(ClientOptions{Getenv: env(map[string]string{"PREFIX": dir})})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("TLS with Termux roots: %v", err)
	}
	resp.Body.Close()
}

func TestFetcherErrors(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	defer close(hang)
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write(make([]byte, 40)) // then the handler returns: the body is cut
	})
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 200)) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 60))
		w.(http.Flusher).Flush()
		w.Write(make([]byte, 60))
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100)) })
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, _ := NewHTTPClient(ClientOptions{})
	f := &fetcher{client: c}
	ctx := context.Background()

	if _, err := f.get(ctx, srv.URL+"/500", 1024, 5*time.Second); err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
		t.Errorf("500: %v", err)
	}
	begin := time.Now()
	_, err := f.get(ctx, srv.URL+"/hang", 1024, 300*time.Millisecond)
	if took := time.Since(begin); err == nil || !strings.Contains(err.Error(), "no complete answer within 300ms") || took > 3*time.Second {
		t.Errorf("hang: %v after %s", err, took)
	}
	if _, err := f.get(ctx, srv.URL+"/long", 100, 5*time.Second); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("cap: %v", err)
	}
	var buf bytes.Buffer
	if err := f.download(ctx, srv.URL+"/short", &buf, 100, time.Second, 5*time.Second, nil); err == nil || !strings.Contains(err.Error(), "truncated download") {
		t.Errorf("truncated: %v", err)
	}
	buf.Reset()
	if err := f.download(ctx, srv.URL+"/long", &buf, 100, time.Second, 5*time.Second, nil); err == nil || !strings.Contains(err.Error(), "announces 200 bytes, the manifest says 100") {
		t.Errorf("oversize: %v", err)
	}
	buf.Reset()
	if err := f.download(ctx, srv.URL+"/chunked", &buf, 100, time.Second, 5*time.Second, nil); err == nil || !strings.Contains(err.Error(), "more than the 100 bytes") {
		t.Errorf("oversize, chunked: %v", err)
	}
	buf.Reset()
	if err := f.download(ctx, srv.URL+"/stall", &buf, 100, 300*time.Millisecond, 5*time.Second, nil); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("stall: %v", err)
	}
	buf.Reset()
	var seen int64
	if err := f.download(ctx, srv.URL+"/ok", &buf, 100, time.Second, 5*time.Second, func(n int64) { seen = n }); err != nil || buf.Len() != 100 || seen != 100 {
		t.Errorf("ok: %v, %d bytes, progress %d", err, buf.Len(), seen)
	}
	if _, err := f.get(ctx, "ftp://example.org/x", 10, time.Second); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("ftp: %v", err)
	}
}
