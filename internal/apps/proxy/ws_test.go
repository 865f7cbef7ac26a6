package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The websocket library checks Origin against Host, as Jupyter does: the
// echo only works if the app sees the client's Host.
func TestWebsocketThroughProxy(t *testing.T) {
	closed := make(chan websocket.StatusCode, 1)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				closed <- websocket.CloseStatus(err)
				return
			}
			if string(msg) == "bye" {
				c.Close(4002, "app done")
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	}))
	defer be.Close()
	_, fe := front(t, Options{}, Route{Name: "w", Prefix: "/w/", StripPrefix: true, Upstream: upstreamOf(be)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(fe.URL, "http") + "/w/echo"
	dial := func() *websocket.Conn {
		c, res, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {fe.URL}}})
		if err != nil {
			code := 0
			if res != nil {
				code = res.StatusCode
			}
			t.Fatalf("dial through the proxy: %v (%d)", err, code)
		}
		return c
	}

	c := dial()
	for _, m := range []string{"one", strings.Repeat("x", 20000)} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != m {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(m), len(got), err)
		}
	}
	// The client's close reaches the app.
	c.Close(4001, "client done")
	select {
	case code := <-closed:
		if code != 4001 {
			t.Errorf("the app saw close %d, want 4001", code)
		}
	case <-ctx.Done():
		t.Fatal("the client's close did not reach the app")
	}

	// The app's close reaches the client.
	c = dial()
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 {
		t.Errorf("client read after the app closed: %v, want close 4002", err)
	}
}
