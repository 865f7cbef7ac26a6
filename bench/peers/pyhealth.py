#!/usr/bin/env python3
"""pyhealth: a benchmark peer for webui-bench.

The origin's stack reduced to its /health endpoint: Python's
http.server.ThreadingHTTPServer answering GET /health with a small JSON
document, logging each request to stderr as BaseHTTPRequestHandler does.

    python3 bench/peers/pyhealth.py 127.0.0.1:8799
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.time()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/health":
            self.send_error(404)
            return
        body = json.dumps({
            "status": "ok",
            "pid": os.getpid(),
            "uptime_s": round(time.time() - STARTED, 3),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8799").rpartition(":")
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
