// Command proxyfront is a benchmark peer for webui-bench: webui's app proxy
// (internal/apps/proxy) alone in a bare net/http server, with no router,
// middleware or logging around it, so the proxy section measures the
// proxy's own cost. Each -route maps a prefix to an upstream.
//
//	proxyfront -addr 127.0.0.1:8798 -route /app/=http://127.0.0.1:8799
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"

	"github.com/termux-webui/webui/internal/apps/proxy"
)

type routes []proxy.Route

func (r *routes) String() string { return "" }

func (r *routes) Set(v string) error {
	prefix, up, ok := strings.Cut(v, "=")
	if !ok {
		return flag.ErrHelp
	}
	*r = append(*r, proxy.Route{Name: strings.Trim(prefix, "/"), Prefix: prefix, StripPrefix: true,
		Upstream: func() string { return up }})
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8798", "address to listen on")
	var rs routes
	flag.Var(&rs, "route", "PREFIX=UPSTREAM (repeatable)")
	flag.Parse()
	t := proxy.New(proxy.Options{})
	t.Set(rs)
	log.Fatal(http.ListenAndServe(*addr, t))
}
