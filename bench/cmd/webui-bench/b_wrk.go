package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type wrkResult struct {
	rps      float64
	p99      float64 // ms
	errors   int
	requests float64
	cpuUs    float64 // server CPU per request, µs (0: unknown)
}

var (
	rpsRe  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Re  = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s|m)\b`)
	non2Re = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockRe = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reqsRe = regexp.MustCompile(`(\d+) requests in`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := rpsRe.FindStringSubmatch(out)
	p := p99Re.FindStringSubmatch(out)
	if m == nil || p == nil {
		return r, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(p[1], 64)
	r.p99 = v * map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[p[2]]
	if m := reqsRe.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := non2Re.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
	}
	if m := sockRe.FindStringSubmatch(out); m != nil {
		for _, x := range m[1:] {
			n, _ := strconv.Atoi(x)
			r.errors += n
		}
	}
	return r, nil
}

func (bn *bench) wrk(url, auth string, gzip bool, d time.Duration) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(bn.cfg.wrkThreads), "-c", strconv.Itoa(bn.cfg.wrkConns), "-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}
	if auth != "" {
		args = append(args, "-H", "Authorization: "+auth)
	}
	if gzip {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	args = append(args, url)
	out, err := exec.Command(bn.b.wrk, args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseWrk(string(out))
}

// target is one server answering one endpoint.
type wrkTarget struct {
	name, url string
	auth      string // Authorization header, when the server wants one
	gzip      bool   // ask for gzip, as a browser does
	rs        []wrkResult
}

func (bn *bench) throughput() *section {
	s := &section{key: "wrk", title: "Throughput and latency (wrk)"}
	dir := filepath.Join(bn.tmp, "wrk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.err = err
		return s
	}
	s.setup = []string{
		fmt.Sprintf("`wrk -t %d -c %d -d %s --latency URL`, %d rounds; in each round every server takes its turn on each endpoint, in a rotating order (after a 1 s warm-up each). wrk and the servers share the %d cores.", bn.cfg.wrkThreads, bn.cfg.wrkConns, bn.cfg.wrkDuration, bn.cfg.wrkRounds, bn.m.cores),
		"webui as shipped: access log on (JSON lines in the log file; a healthy `GET /health` is logged at debug level, so not written at the default level; every other request is written). The same build with `--access-log off` runs alongside to show what logging costs.",
		"/health: webui's release build; the floor and nginx serve the same bytes webui's /health returned (a static JSON file).",
		"/assets/app.css: webui's embedded stylesheet (release build, with ETag and security headers; a plain GET is written from memory, conditional and range requests go through http.ServeContent); the floor (from memory) and nginx (from a file) serve the same bytes. wrk sends no Accept-Encoding, so every server sends the plain stylesheet; one more row asks webui for gzip, as a phone's browser does, and gets its build-time gzip copy.",
		"64 KiB: a release build has no route for a 64 KiB file (its assets are embedded and small), so webui runs the `-tags webuitest` build and serves `/_test/big?size=65536` (64 KiB generated in memory in 32 KiB writes, through the full middleware stack); the floor (from memory, one write) and nginx (sendfile from a file) serve an identical 64 KiB file.",
		"nginx " + nginxVersion(bn.b.nginx) + ": `worker_processes auto`, access log on, sendfile on, keepalive_requests 100000, run in the foreground from a config written to a temp dir.",
	}
	var stops []func()
	pids := map[string]int{} // server pid by address, for its CPU time
	start := func(bin, name string, extra ...string) (*inst, error) {
		in, err := newInst(bin, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		c, err := in.serve(extra...)
		if err != nil {
			return nil, err
		}
		stops = append(stops, func() { c.stop(syscall.SIGTERM, 10*time.Second) })
		pids[in.addr] = c.pid()
		_, err = waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil)
		return in, err
	}
	defer func() {
		for _, f := range stops {
			f()
		}
	}()
	wh, err1 := start(bn.b.webui, "webui")
	whOff, err2 := start(bn.b.webui, "webui-nolog", "--access-log", "off")
	wb, err3 := start(bn.b.webuitest, "webuitest")
	wbOff, err4 := start(bn.b.webuitest, "webuitest-nolog", "--access-log", "off")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			s.err = err
			return s
		}
	}
	healthBody, err := fetch("http://"+wh.addr+"/health", "")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "health.json"), healthBody, 0o644)
	}
	var big []byte
	if err == nil {
		big, err = fetch("http://"+wb.addr+"/_test/big?size=65536", authHeader(wb.path("state")))
	}
	if err == nil && len(big) != 65536 {
		err = fmt.Errorf("/_test/big gave %d bytes", len(big))
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	}
	var css []byte
	if err == nil {
		css, err = fetch("http://"+wh.addr+"/assets/app.css", authHeader(wh.path("state")))
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "app.css"), css, 0o644)
	}
	if err != nil {
		s.err = err
		return s
	}
	faddr, _ := freeAddr()
	fl, err := spawn(bn.b.floor, []string{"-addr", faddr, "-health", filepath.Join(dir, "health.json"), "-big", filepath.Join(dir, "big.bin"), "-css", filepath.Join(dir, "app.css")}, os.Environ(), filepath.Join(dir, "floor.txt"))
	if err != nil {
		s.err = err
		return s
	}
	stops = append(stops, func() { fl.stop(syscall.SIGTERM, 5*time.Second) })
	pids[faddr] = fl.pid()
	naddr, stopNginx, err := bn.startNginx(filepath.Join(dir, "nginx"), dir)
	if err != nil {
		s.err = err
		return s
	}
	stops = append(stops, stopNginx)
	if b, err := os.ReadFile(filepath.Join(dir, "nginx", "nginx.pid")); err == nil {
		pids[naddr], _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	for _, a := range []string{faddr, naddr} {
		if _, err := waitHealth(a, 10*time.Second, 10*time.Millisecond, nil); err != nil {
			s.err = err
			return s
		}
	}
	bn.figs.set("wrk.css.bytes", float64(len(css)))
	endpoints := []struct {
		name    string
		targets []*wrkTarget
	}{
		{"GET /health", []*wrkTarget{
			{name: "webui (access log on, as shipped)", url: "http://" + wh.addr + "/health"},
			{name: "webui --access-log off", url: "http://" + whOff.addr + "/health"},
			{name: "floor (bare Go net/http)", url: "http://" + faddr + "/health"},
			{name: "nginx", url: "http://" + naddr + "/health"},
		}},
		{fmt.Sprintf("GET /assets/app.css (%.1f KiB, embedded static asset)", float64(len(css))/1024), []*wrkTarget{
			{name: "webui (access log on, as shipped)", url: "http://" + wh.addr + "/assets/app.css"},
			{name: "webui --access-log off", url: "http://" + whOff.addr + "/assets/app.css"},
			{name: "floor (bare Go net/http)", url: "http://" + faddr + "/assets/app.css"},
			{name: "nginx", url: "http://" + naddr + "/assets/app.css"},
			{name: "webui, asked for gzip as a browser asks (access log on)", url: "http://" + wh.addr + "/assets/app.css", gzip: true},
		}},
		{"GET 64 KiB (webui: /_test/big?size=65536)", []*wrkTarget{
			{name: "webui (access log on, as shipped)", url: "http://" + wb.addr + "/_test/big?size=65536"},
			{name: "webui --access-log off", url: "http://" + wbOff.addr + "/_test/big?size=65536"},
			{name: "floor (bare Go net/http)", url: "http://" + faddr + "/big"},
			{name: "nginx", url: "http://" + naddr + "/big"},
		}},
	}
	// With a login in front of everything but /health, each webui gets
	// its own token, and the floor and nginx the same header, so every
	// server reads the same request bytes.
	byAddr := map[string]string{}
	for _, in := range []*inst{wh, whOff, wb, wbOff} {
		byAddr[in.addr] = authHeader(in.path("state"))
	}
	for _, ep := range endpoints {
		for _, t := range ep.targets {
			if strings.HasSuffix(t.url, "/health") {
				continue
			}
			a, ok := byAddr[strings.Split(strings.TrimPrefix(t.url, "http://"), "/")[0]]
			if !ok {
				a = byAddr[wh.addr]
			}
			t.auth = a
		}
	}
	for _, ep := range endpoints {
		for _, t := range ep.targets {
			if _, err := bn.wrk(t.url, t.auth, t.gzip, time.Second); err != nil {
				s.err = err
				return s
			}
		}
	}
	for r := 0; r < bn.cfg.wrkRounds; r++ {
		for _, ep := range endpoints {
			for k := range ep.targets {
				t := ep.targets[(r+k)%len(ep.targets)]
				pid := pids[strings.Split(strings.TrimPrefix(t.url, "http://"), "/")[0]]
				c0 := treeCPU(pid)
				res, err := bn.wrk(t.url, t.auth, t.gzip, bn.cfg.wrkDuration)
				if err != nil {
					s.err = err
					return s
				}
				if c1 := treeCPU(pid); pid > 0 && res.requests > 0 {
					res.cpuUs = float64(c1-c0) / 1e3 / res.requests
				}
				t.rs = append(t.rs, res)
				progress("wrk: round %d/%d %s %s: %.0f req/s, p99 %.2f ms", r+1, bn.cfg.wrkRounds, ep.name, t.name, res.rps, res.p99)
			}
		}
	}
	for i, ep := range endpoints {
		tb := table{caption: "**" + ep.name + "**", header: []string{"server", "requests/s: median (min–max)", "p99 latency: median (min–max)", "errors", "req/s ÷ floor", "p99 ÷ floor", "server CPU per request: median"}}
		stat := func(t *wrkTarget) (rps, p99 sample, errs int) {
			for _, x := range t.rs {
				rps = append(rps, x.rps)
				p99 = append(p99, x.p99)
				errs += x.errors
			}
			return
		}
		cpu := func(t *wrkTarget) float64 {
			var c sample
			for _, x := range t.rs {
				if x.cpuUs > 0 {
					c = append(c, x.cpuUs)
				}
			}
			if len(c) == 0 {
				return 0
			}
			return c.median()
		}
		fr, fp, _ := stat(ep.targets[2])
		for _, t := range ep.targets {
			rps, p99, errs := stat(t)
			c := "–"
			if v := cpu(t); v > 0 {
				c = num(v) + " µs"
			}
			tb.add(t.name, fmt.Sprintf("%s (%s–%s)", num(rps.median()), num(rps.min()), num(rps.max())),
				fmt.Sprintf("%s ms (%s–%s)", num(p99.median()), num(p99.min()), num(p99.max())), strconv.Itoa(errs),
				ratio(rps.median(), fr.median()), ratio(p99.median(), fp.median()), c)
		}
		s.tables = append(s.tables, tb)
		wr, wp, _ := stat(ep.targets[0])
		or, op, _ := stat(ep.targets[1])
		nr, _, _ := stat(ep.targets[3])
		rpsOK, p99OK := wr.median() >= 0.8*fr.median(), wp.median() <= 1.5*fp.median()
		s.notes = append(s.notes, "**"+ep.name+".** "+gapNote(wr.median(), or.median(), fr.median(), nr.median())+
			cpuNote(cpu(ep.targets[0]), cpu(ep.targets[1]), cpu(ep.targets[2])))
		if key := []string{"health", "css", "big"}[i]; key != "big" {
			bn.figs.set("wrk."+key+".webui", wr.median())
			bn.figs.set("wrk."+key+".nolog", or.median())
			bn.figs.set("wrk."+key+".floor", fr.median())
			bn.figs.set("wrk."+key+".nginx", nr.median())
		}
		s.target(ep.name+": webui ≥ 0.8× the floor's requests/s", fmt.Sprintf("%s (%s vs %s req/s; nginx %s)", ratio(wr.median(), fr.median()), num(wr.median()), num(fr.median()), ratio(nr.median(), fr.median())), rpsOK)
		s.target(ep.name+": webui p99 ≤ 1.5× the floor's", fmt.Sprintf("%s (%s vs %s ms)", ratio(wp.median(), fp.median()), num(wp.median()), num(fp.median())), p99OK)
		s.info(ep.name+": cost of the access log", fmt.Sprintf("log on %s req/s vs off %s req/s (%s); p99 %s vs %s ms", num(wr.median()), num(or.median()), ratio(wr.median(), or.median()), num(wp.median()), num(op.median())))
	}
	return s
}

// gapNote says, from the figures alone, how far webui is from the floor
// and how much of that the access line accounts for: per request, webui
// with the log on takes 1/on seconds of the run's capacity, with it off
// 1/off, the floor 1/floor.
func gapNote(on, off, floor, nginx float64) string {
	if on <= 0 || off <= 0 || floor <= 0 {
		return "No figures to compare."
	}
	us := func(rps float64) float64 { return 1e6 / rps }
	gap, logCost := us(on)-us(floor), us(on)-us(off)
	n := fmt.Sprintf("webui with the access log on serves %s the floor's requests/s (%s µs per request against %s µs), with it off %s; nginx %s.",
		ratio(on, floor), num(us(on)), num(us(floor)), ratio(off, floor), ratio(nginx, floor))
	switch {
	case gap <= 0:
		n += " No gap to the floor in this run."
	case logCost <= 0:
		n += fmt.Sprintf(" The access line costs nothing measurable here (log on ≥ log off); the %s µs gap is the rest of the request path.", num(gap))
	default:
		n += fmt.Sprintf(" The access line accounts for %s µs of the %s µs gap per request (%.0f%%); the rest of the request path for %s µs.", num(logCost), num(gap), 100*min(logCost/gap, 1), num(max(gap-logCost, 0)))
	}
	return n
}

// cpuNote compares the servers' own CPU time per request, which other
// work on the machine disturbs far less than requests/s.
func cpuNote(on, off, floor float64) string {
	if on <= 0 || off <= 0 || floor <= 0 {
		return ""
	}
	return fmt.Sprintf(" In server CPU per request: webui %s µs with the access log on, %s µs with it off, the floor %s µs (%s the floor's).",
		num(on), num(off), num(floor), ratio(on, floor))
}

// treeCPU is the CPU time, in ns, of pid and its children (nginx's workers).
func treeCPU(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	n := readProc(pid).runNs
	for _, k := range children(pid) {
		n += readProc(k).runNs
	}
	return n
}

func fetch(url, auth string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func nginxVersion(bin string) string {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: "))
}

// startNginx runs nginx in the foreground from a config in dir.
func (bn *bench) startNginx(dir, files string) (string, func(), error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // the files live in a private temp dir
	}
	conf := fmt.Sprintf(`# webui-bench: nginx as a peer
%sworker_processes auto;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 4096; }
http {
    access_log %[2]s/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    server {
        listen %[3]s;
        location = /health { default_type "application/json; charset=utf-8"; alias %[4]s/health.json; }
        location = /big { default_type application/octet-stream; alias %[4]s/big.bin; }
        location = /assets/app.css { default_type "text/css; charset=utf-8"; alias %[4]s/app.css; }
    }
}
`, user, dir, addr, files)
	stop, err := bn.runNginx(dir, conf, func() error { _, err := waitHealth(addr, 10*time.Second, 20*time.Millisecond, nil); return err })
	if err != nil {
		return "", nil, err
	}
	return addr, stop, nil
}

// children lists a process's child pids.
func children(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// runNginx writes conf as dir/nginx.conf and runs nginx in the foreground
// until stop; ready reports when it answers.
func (bn *bench) runNginx(dir, conf string, ready func() error) (stop func(), err error) {
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	c, err := spawn(bn.b.nginx, []string{"-p", dir, "-c", cf, "-g", "daemon off;"}, os.Environ(), filepath.Join(dir, "out.txt"))
	if err != nil {
		return nil, err
	}
	stop = func() {
		kids := children(c.pid())
		c.stop(syscall.SIGTERM, 10*time.Second)
		for _, k := range kids {
			if pidAlive(k) {
				_ = syscall.Kill(k, syscall.SIGKILL)
			}
		}
	}
	if err := ready(); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
		stop()
		return nil, fmt.Errorf("nginx: %v\n%s", err, b)
	}
	return stop, nil
}
