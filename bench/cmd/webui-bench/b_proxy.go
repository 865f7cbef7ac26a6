package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proxyCost measures webui hosting the bare Go floor as an app, and its
// proxy (internal/apps/proxy) alone, against the floor served directly
// and through nginx, in the same run: wrk's requests/s and p99, the
// proxy's CPU per request, how soon the first server-sent event comes
// through, and what an idle supervised app costs webui.
func (bn *bench) proxyCost() *section {
	s := &section{key: "proxy", title: "Hosting an app: webui in front of the floor"}
	fail := func(err error) *section { s.err = err; return s }
	if bn.b.wrk == "" {
		w, err := ensureTool("wrk", "wrk")
		if err != nil {
			return fail(err)
		}
		bn.b.wrk = w
	}
	dir := filepath.Join(bn.tmp, "proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	front := filepath.Join(bn.tmp, "proxyfront")
	if err := goBuild(bn.root, front, "./bench/proxyfront", "", "-s -w"); err != nil {
		return fail(err)
	}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		return fail(err)
	}
	faddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	fl, err := spawn(bn.b.floor, []string{"-addr", faddr, "-big", filepath.Join(dir, "big.bin")}, os.Environ(), filepath.Join(dir, "floor.txt"))
	if err != nil {
		return fail(err)
	}
	defer fl.stop(syscall.SIGTERM, 5*time.Second)
	sseAddr, stopSSE, err := startSSE()
	if err != nil {
		return fail(err)
	}
	defer stopSSE()
	paddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	px, err := spawn(front, []string{"-addr", paddr, "-route", "/app/=http://" + faddr, "-route", "/sse/=http://" + sseAddr},
		os.Environ(), filepath.Join(dir, "proxyfront.txt"))
	if err != nil {
		return fail(err)
	}
	defer px.stop(syscall.SIGTERM, 5*time.Second)
	for _, u := range []string{"http://" + faddr + "/health", "http://" + paddr + "/app/health"} {
		if err := waitOK(u, 10*time.Second); err != nil {
			return fail(err)
		}
	}
	wf, err := bn.startWebuiFront(filepath.Join(dir, "webui"), webuiAppFiles(faddr, sseAddr), "/app/health")
	if err != nil {
		return fail(err)
	}
	defer wf.stop()
	waddr := wf.in.addr
	auth := map[string]string{waddr: wf.auth}
	slice := max(10*time.Second, bn.cfg.proxyIdle/6)
	ia, err := bn.startIdleApps(filepath.Join(dir, "idle"), slice)
	if err != nil {
		return fail(err)
	}
	// nginx as a reverse proxy is the peer: what a proxy costs on this
	// machine at all.
	naddr, nginxNote := "", ""
	if bn.b.nginx == "" {
		bn.b.nginx, _ = ensureTool("nginx", "nginx", "/usr/sbin/nginx")
	}
	if bn.b.nginx != "" {
		a, stop, err := bn.startNginxProxy(filepath.Join(dir, "nginx"), faddr)
		if err != nil {
			return fail(err)
		}
		defer stop()
		naddr = a
		nginxNote = "nginx " + nginxVersion(bn.b.nginx) + " as the peer: `proxy_pass` to the floor over an upstream block with `keepalive 64`, HTTP/1.1, `worker_processes auto`, access log off, buffering as by default."
	}
	s.setup = []string{
		fmt.Sprintf("`wrk -t %d -c %d -d %s --latency URL`, %d rounds, each target in turn (after a 1 s warm-up each); wrk, the proxy and the floor share the %d cores.",
			bn.cfg.wrkThreads, bn.cfg.wrkConns, bn.cfg.wrkDuration, bn.cfg.wrkRounds, bn.m.cores),
		"webui is the release build as shipped (access log on), hosting the floor as `apps.d/app.conf` with `upstream = http://127.0.0.1:PORT` and `route = /app/` (prefix stripped, X-Forwarded-* added, the client's Host passed on); wrk sends the owner's `Authorization: Bearer` token, which webui checks and strips. The goals are webui's.",
		"For scale, `bench/proxyfront`: internal/apps/proxy's Table alone in a bare net/http server (no router, auth, middleware or access log), routing `/app/` the same way: what the proxy itself costs, without webui's front door.",
		"The floor (bench/floor) answers `/health` (16 bytes of JSON) and `/big` (64 KiB from memory).",
		nginxNote,
		"SSE: a bare Go handler writes one event, flushes and holds the stream open; the figure is the time from sending the request to reading the first event, on a fresh connection each time, directly, through the proxy and through webui (`apps.d/sse.conf`, an upstream), in turn.",
		fmt.Sprintf("Idle app: two more webuis run from the start of the section to its end (at least %s): one supervising the floor as a process app (`command = floor -addr 127.0.0.1:PORT`, `health = /health`, so the liveness poll runs), one with no apps. Nobody asks either anything. The figure is each webui's own CPU time (schedstat over its threads, not its children) per %s slice, scaled to an hour; the medians are compared. The slices overlap the wrk runs, so read the absolute figures as an upper bound; the difference is the app's cost.", bn.cfg.proxyIdle, slice),
	}
	eps := []struct{ name, direct, proxied, nginx string }{
		{"GET /health (16 B)", "http://" + faddr + "/health", "http://" + paddr + "/app/health", "http://" + naddr + "/app/health"},
		{"GET /big (64 KiB)", "http://" + faddr + "/big", "http://" + paddr + "/app/big", "http://" + naddr + "/app/big"},
	}
	webuiURL := func(i int) string { return "http://" + waddr + strings.TrimPrefix(eps[i].proxied, "http://"+paddr) }
	pids := map[string]int{faddr: fl.pid(), paddr: px.pid(), waddr: wf.srv.pid()}
	if b, err := os.ReadFile(filepath.Join(dir, "nginx", "nginx.pid")); err == nil {
		pids[naddr], _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	targets := func(i int) []string {
		us := []string{eps[i].direct, webuiURL(i), eps[i].proxied}
		if naddr != "" {
			us = append(us, eps[i].nginx)
		}
		return us
	}
	type runs struct{ rps, p99, cpu sample }
	res := map[string]*runs{}
	for i := range eps {
		for _, u := range targets(i) {
			res[u] = &runs{}
			if _, err := bn.wrk(u, auth[hostOf(u)], false, time.Second); err != nil {
				return fail(err)
			}
		}
	}
	for r := 0; r < bn.cfg.wrkRounds; r++ {
		for i, ep := range eps {
			us := targets(i)
			for k := range us {
				u := us[(r+k)%len(us)]
				pid := pids[hostOf(u)]
				c0 := treeCPU(pid)
				w, err := bn.wrk(u, auth[hostOf(u)], false, bn.cfg.wrkDuration)
				if err != nil {
					return fail(err)
				}
				if w.errors > 0 {
					return fail(fmt.Errorf("wrk %s: %d errors", u, w.errors))
				}
				x := res[u]
				x.rps, x.p99 = append(x.rps, w.rps), append(x.p99, w.p99)
				if w.requests > 0 {
					x.cpu = append(x.cpu, float64(treeCPU(pid)-c0)/1e3/w.requests)
				}
				progress("proxy: round %d/%d %s %s: %.0f req/s, p99 %.2f ms", r+1, bn.cfg.wrkRounds, ep.name, u, w.rps, w.p99)
			}
		}
	}
	for i, ep := range eps {
		d, wb, p, ng := res[ep.direct], res[webuiURL(i)], res[ep.proxied], res[ep.nginx]
		tb := table{caption: "**" + ep.name + "**", header: []string{"server", "requests/s: median (min–max)", "p99: median (min–max)", "req/s ÷ floor", "p99 ÷ floor", "server CPU per request: median"}}
		for _, row := range []struct {
			name string
			x    *runs
		}{{"floor, direct", d}, {"floor hosted by webui (apps.d upstream; CPU: webui)", wb}, {"floor through the proxy alone (bench/proxyfront)", p}, {"floor through nginx (CPU: nginx's processes)", ng}} {
			if row.x == nil {
				continue
			}
			tb.add(row.name, medMinMax(row.x.rps, ""), medMinMax(row.x.p99, " ms"), ratio(row.x.rps.median(), d.rps.median()),
				ratio(row.x.p99.median(), d.p99.median()), row.x.cpu.med(" µs"))
		}
		s.tables = append(s.tables, tb)
		rr, pr := wb.rps.median()/d.rps.median(), wb.p99.median()/d.p99.median()
		s.target(ep.name+": webui hosting the floor ≥ 0.7× the floor's requests/s", fmt.Sprintf("%s (%s vs %s req/s)", ratio(wb.rps.median(), d.rps.median()), num(wb.rps.median()), num(d.rps.median())), rr >= 0.7)
		s.target(ep.name+": webui hosting the floor, p99 ≤ 1.5× the floor's", fmt.Sprintf("%s (%s vs %s ms)", ratio(wb.p99.median(), d.p99.median()), num(wb.p99.median()), num(d.p99.median())), pr <= 1.5)
		s.info(ep.name+": the proxy alone (bench/proxyfront)", fmt.Sprintf("%s the floor's requests/s, p99 %s", ratio(p.rps.median(), d.rps.median()), ratio(p.p99.median(), d.p99.median())))
		if wb.cpu.median() > 0 && p.cpu.median() > 0 {
			s.notes = append(s.notes, fmt.Sprintf("%s: webui spent %s µs of its own CPU per request, the proxy alone %s µs, the floor %s µs: webui's front door (auth, routing, the access log) adds %s µs per request to the proxy's.",
				ep.name, num(wb.cpu.median()), num(p.cpu.median()), num(d.cpu.median()), num(wb.cpu.median()-p.cpu.median())))
		}
		if ng != nil {
			s.info(ep.name+": nginx as the proxy, for scale", fmt.Sprintf("%s the floor's requests/s, p99 %s", ratio(ng.rps.median(), d.rps.median()), ratio(ng.p99.median(), d.p99.median())))
		}
	}

	n := 200
	if bn.cfg.quick {
		n = 30
	}
	var direct, proxied, viaWebui sample
	for i := range 3 * n {
		u, into, a := "http://"+sseAddr+"/events", &direct, ""
		switch i % 3 {
		case 1:
			u, into = "http://"+paddr+"/sse/events", &proxied
		case 2:
			u, into, a = "http://"+waddr+"/sse/events", &viaWebui, wf.auth
		}
		d, err := firstEvent(u, a)
		if err != nil {
			return fail(err)
		}
		*into = append(*into, d.Seconds()*1000)
	}
	tb := table{caption: fmt.Sprintf("**SSE: first event** (%d streams each)", n), header: []string{"path", "median", "p99", "max"}}
	tb.add("direct", num(direct.median())+" ms", num(direct.q(0.99))+" ms", num(direct.max())+" ms")
	tb.add("through webui (apps.d upstream)", num(viaWebui.median())+" ms", num(viaWebui.q(0.99))+" ms", num(viaWebui.max())+" ms")
	tb.add("through the proxy alone", num(proxied.median())+" ms", num(proxied.q(0.99))+" ms", num(proxied.max())+" ms")
	s.tables = append(s.tables, tb)
	s.info("SSE first event through webui", fmt.Sprintf("%s ms median, p99 %s ms (direct %s ms, p99 %s ms); the server holds the stream open after it", num(viaWebui.median()), num(viaWebui.q(0.99)), num(direct.median()), num(direct.q(0.99))))

	minSlices := max(3, int(bn.cfg.proxyIdle/slice))
	progress("proxy: idle app: sampling until %d slices of %s", minSlices, slice)
	with, none := ia.finish(minSlices)
	tb = table{caption: fmt.Sprintf("**Idle supervised app: webui's own CPU** (%d slices of %s)", len(with), slice), header: []string{"webui", "CPU-s per hour: median (min–max)"}}
	tb.add("with one idle process app (health polled)", medMinMax(with, ""))
	tb.add("with no apps", medMinMax(none, ""))
	s.tables = append(s.tables, tb)
	if probes := len(with) * int(slice/(10*time.Second)); probes > 0 {
		s.notes = append(s.notes, fmt.Sprintf("The idle app's health was polled every 10 s, about %d times in the %d slices: %s ms of webui's CPU per probe if the probes are all the app costs.",
			probes, len(with), num((with.median()-none.median())/360*1000)))
	}
	s.info("An idle supervised app's cost to webui", fmt.Sprintf("%s (%s with the app vs %s without, medians)", cpuHour(with.median()-none.median()), cpuHour(with.median()), cpuHour(none.median())))
	return s
}

func waitOK(u string, within time.Duration) error { return waitOwner(u, "", within) }

// startSSE serves /events: one event, flushed, then the stream stays open
// until the client leaves.
func startSSE() (string, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	return addr, func() { srv.Close() }, nil
}

// firstEvent opens a stream on a fresh connection and times its first
// event.
func firstEvent(u, auth string) (time.Duration, error) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	t0 := time.Now()
	res, err := tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	d := time.Since(t0)
	if err != nil || line != "data: first\n" {
		return 0, errors.Join(fmt.Errorf("%s: first line %q", u, line), err)
	}
	return d, nil
}

// medMinMax is "median (min–max)" in unit.
func medMinMax(s sample, unit string) string {
	return fmt.Sprintf("%s%s (%s–%s)", num(s.median()), unit, num(s.min()), num(s.max()))
}

// startNginxProxy runs nginx as a reverse proxy: /app/ to upstream, prefix
// stripped, kept-alive upstream connections.
func (bn *bench) startNginxProxy(dir, upstream string) (string, func(), error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	conf := fmt.Sprintf(`# webui-bench: nginx as a reverse proxy peer
%sworker_processes auto;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    upstream floor { server %[4]s; keepalive 64; }
    server {
        listen %[3]s;
        location /app/ {
            proxy_pass http://floor/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }
    }
}
`, user, dir, addr, upstream)
	stop, err := bn.runNginx(dir, conf, func() error { return waitOK("http://"+addr+"/app/health", 10*time.Second) })
	if err != nil {
		return "", nil, err
	}
	return addr, stop, nil
}
