// Command floor is a benchmark peer for webui-bench: the least a Go server
// can do. It answers GET /health with a fixed JSON document and, with -big,
// GET /big with a file's bytes read once at startup, both written from
// memory with net/http and nothing else (-css does the same for
// /assets/app.css): no router, no middleware, no
// logging. webui-bench builds it with webui's release flags
// (CGO_ENABLED=0 -trimpath -ldflags "-s -w").
//
//	floor -addr 127.0.0.1:8799 [-health FILE] [-big FILE] [-css FILE]
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8799", "address to listen on")
	healthFile := flag.String("health", "", "the /health body (default: a small JSON document)")
	bigFile := flag.String("big", "", "a file to serve at /big")
	cssFile := flag.String("css", "", "a file to serve at /assets/app.css")
	flag.Parse()

	health := []byte(`{"status":"ok"}` + "\n")
	if *healthFile != "" {
		b, err := os.ReadFile(*healthFile)
		if err != nil {
			log.Fatal(err)
		}
		health = b
	}
	load := func(name string) []byte {
		if name == "" {
			return nil
		}
		b, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		return b
	}
	big, css := load(*bigFile), load(*cssFile)
	serve := func(body []byte, ctype string) http.HandlerFunc {
		n := strconv.Itoa(len(body))
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Length", n)
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /health", serve(health, "application/json; charset=utf-8"))
	if big != nil {
		mux.Handle("GET /big", serve(big, "application/octet-stream"))
	}
	if css != nil {
		mux.Handle("GET /assets/app.css", serve(css, "text/css; charset=utf-8"))
	}
	log.Fatal(http.ListenAndServe(*addr, mux))
}
