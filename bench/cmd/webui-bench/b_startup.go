package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

var startClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// timeToHealth starts bin and returns the time from exec to the first 200
// from GET /health at addr, polling every 200 µs; then it stops it.
func timeToHealth(bin string, args, env []string, addr string) (time.Duration, error) {
	c := exec.Command(bin, args...)
	c.Env = env
	begin := time.Now()
	if err := c.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	stop := func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	u := "http://" + addr + "/health"
	for {
		resp, err := startClient.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				d := time.Since(begin)
				stop()
				return d, nil
			}
		}
		select {
		case err := <-done:
			return 0, fmt.Errorf("%s exited before answering /health: %v", filepath.Base(bin), err)
		default:
		}
		if time.Since(begin) > 20*time.Second {
			stop()
			return 0, fmt.Errorf("%s: no /health within 20s", filepath.Base(bin))
		}
		pause(200 * time.Microsecond)
	}
}

// pause sleeps d on this thread. time.Sleep rounds a wait under a
// millisecond up to about 1.1 ms when the process is otherwise idle (the
// runtime's netpoller sleeps in whole milliseconds), which would make the
// poll five times coarser than it says.
func pause(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for {
		if err := syscall.Nanosleep(&ts, &ts); err != syscall.EINTR {
			return
		}
	}
}

// starter runs one kind of program once and times it.
type starter struct {
	name string
	run  func() (time.Duration, error)
}

func (bn *bench) webuiStarter(name, dir string, extra ...string) (starter, error) {
	in, err := newInst(bn.b.webui, dir)
	if err != nil {
		return starter{}, err
	}
	return starter{name, func() (time.Duration, error) {
		addr, err := freeAddr()
		if err != nil {
			return 0, err
		}
		in.addr = addr
		args := append(append([]string{"serve"}, in.settings()...), extra...)
		return timeToHealth(in.bin, args, cleanEnv(in.dir), addr)
	}}, nil
}

func (bn *bench) floorStarter() starter {
	return starter{"floor (bare Go net/http)", func() (time.Duration, error) {
		addr, err := freeAddr()
		if err != nil {
			return 0, err
		}
		return timeToHealth(bn.b.floor, []string{"-addr", addr}, os.Environ(), addr)
	}}
}

func (bn *bench) pyStarter() starter {
	return starter{"python ThreadingHTTPServer", func() (time.Duration, error) {
		addr, err := freeAddr()
		if err != nil {
			return 0, err
		}
		return timeToHealth(bn.b.python, []string{bn.b.pyhealth, addr}, os.Environ(), addr)
	}}
}

// nginxStarter runs nginx in the foreground (one worker) from a config
// that answers /health with a fixed body.
func (bn *bench) nginxStarter(dir string) (starter, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return starter{}, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	return starter{"nginx", func() (time.Duration, error) {
		addr, err := freeAddr()
		if err != nil {
			return 0, err
		}
		conf := fmt.Sprintf(`# webui-bench: nginx as a startup peer
%sworker_processes 1;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    server {
        listen %[3]s;
        location = /health { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
`, user, dir, addr)
		cf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			return 0, err
		}
		return timeToHealth(bn.b.nginx, []string{"-p", dir, "-c", cf, "-g", "daemon off;"}, os.Environ(), addr)
	}}, nil
}

// interleave runs each starter runs times, taking turns in a rotating
// order, after one warm-up run each.
func interleave(runs int, ss []starter) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(ss))
	for _, s := range ss {
		if _, err := s.run(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	for i := 0; i < runs; i++ {
		for k := range ss {
			j := (i + k) % len(ss)
			d, err := ss[j].run()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ss[j].name, err)
			}
			out[j] = append(out[j], d)
		}
	}
	return out, nil
}

func (bn *bench) startup() *section {
	s := &section{key: "startup", title: "Startup: exec to the first /health 200"}
	runs := bn.cfg.startups
	s.setup = []string{
		fmt.Sprintf("Each program is started %d times (after one warm-up run each), taking turns in a rotating order; the time runs from fork+exec to the first `GET /health` answered 200, polled every 0.2 ms with a new connection each time.", runs),
		"webui: the release build (`make build` flags: CGO_ENABLED=0 -trimpath -ldflags \"-s -w\"), as shipped: diagnostics on (first-line marker, lifetime record, pruning to 50 records once it listens), JSON log file, access log on; one state dir for all runs, so the steady state of 50 records is what is measured.",
		"floor: `bench/floor`, a bare Go net/http program that only answers /health, built with the same flags: the least a Go server can do.",
		"python: `bench/peers/pyhealth.py`, the origin's stack (http.server.ThreadingHTTPServer) reduced to /health, run by " + bn.b.python + ".",
		"nginx: in the foreground (`daemon off`, one worker, access log off), answering /health with a fixed body from its config.",
	}
	w, err := bn.webuiStarter("webui", filepath.Join(bn.tmp, "startup", "webui"))
	if err != nil {
		s.err = err
		return s
	}
	ss := []starter{w, bn.floorStarter()}
	if bn.b.python != "" {
		ss = append(ss, bn.pyStarter())
	}
	if bn.b.nginx != "" {
		if ng, err := bn.nginxStarter(filepath.Join(bn.tmp, "startup", "nginx")); err == nil {
			ss = append(ss, ng)
		}
	}
	res, err := interleave(runs, ss)
	if err != nil {
		s.err = err
		return s
	}
	floor := durs(res[1]).median()
	t := table{header: []string{"program", "runs", "median", "p25–p75 (min–max)", "÷ floor"}}
	for i, st := range ss {
		d := durs(res[i])
		t.add(st.name, strconv.Itoa(len(d)), d.med(" ms"), d.spread(" ms"), ratio(d.median(), floor))
	}
	s.tables = append(s.tables, t)
	wm := durs(res[0]).median()
	bn.figs.set("startup.webui", wm)
	bn.figs.set("startup.floor", floor)
	for i, st := range ss[2:] {
		key := map[string]string{"nginx": "startup.nginx", "python ThreadingHTTPServer": "startup.python"}[st.name]
		bn.figs.set(key, durs(res[i+2]).median())
	}
	// Where webui's time goes, from the figures: package initialisation
	// before main against the floor's, and the rest.
	win, err := newInst(bn.b.webui, filepath.Join(bn.tmp, "startup", "inittrace"))
	if err == nil {
		wi, wt := initCost(win.bin, append([]string{"serve"}, win.settings()...), cleanEnv(win.dir), 5)
		faddr, _ := freeAddr()
		_, ft := initCost(bn.b.floor, []string{"-addr", faddr}, os.Environ(), 5)
		gap := wm - floor
		n := fmt.Sprintf("Package initialisation before main (`GODEBUG=inittrace=1`, median of 5 runs): webui %s ms, the floor %s ms. The costliest in webui: %s.", num(wt), num(ft), topInits(wi, 5))
		if gap > 0 {
			n += fmt.Sprintf(" Of webui's %s ms over the floor, initialisation explains %s ms (%.0f%%); the other %s ms are main's work before the first answer and the larger binary to load.", num(gap), num(wt-ft), 100*max(0, min(1, (wt-ft)/gap)), num(max(0, gap-(wt-ft))))
		} else {
			n += " webui started no slower than the floor in this run."
		}
		s.notes = append(s.notes, n)
	}
	s.target("webui ≤ 1.5× the floor's startup", fmt.Sprintf("%s ms vs floor %s ms: %s", num(wm), num(floor), ratio(wm, floor)), wm <= 1.5*floor)
	for i, st := range ss[2:] {
		pm := durs(res[i+2]).median()
		s.info("vs "+st.name, fmt.Sprintf("%s %s ms: webui takes %s of its time", st.name, num(pm), ratio(wm, pm)))
	}
	return s
}

func (bn *bench) diagOverhead() *section {
	s := &section{key: "diag", title: "Diagnostics overhead at startup"}
	runs := bn.cfg.diagRuns
	dir := filepath.Join(bn.tmp, "diag")
	s.setup = []string{
		fmt.Sprintf("webui release build started %d times with diagnostics on (the default) and %d times with `--diagnostics off`, interleaved (rotating order, one warm-up each); exec to the first /health 200 as in the startup benchmark.", runs, runs),
		"The \"on\" state dir starts with 49 earlier lifetime records, so every start also writes its first-line marker, opens its record and crash file, and prunes one record: the steady state at the default diag_keep of 50.",
	}
	on, err := bn.webuiStarter("diagnostics on", filepath.Join(dir, "on"))
	if err != nil {
		s.err = err
		return s
	}
	if err := seedLifetimes(filepath.Join(dir, "on", "state", "lifetimes"), 49); err != nil {
		s.err = err
		return s
	}
	off, err := bn.webuiStarter("diagnostics off", filepath.Join(dir, "off"), "--diagnostics", "off")
	if err != nil {
		s.err = err
		return s
	}
	res, err := interleave(runs, []starter{on, off})
	if err != nil {
		s.err = err
		return s
	}
	a, b := durs(res[0]), durs(res[1])
	t := table{header: []string{"webui", "runs", "median", "p25–p75 (min–max)", "÷ off"}}
	t.add("diagnostics on", strconv.Itoa(len(a)), a.med(" ms"), a.spread(" ms"), ratio(a.median(), b.median()))
	t.add("diagnostics off", strconv.Itoa(len(b)), b.med(" ms"), b.spread(" ms"), "1.00×")
	s.tables = append(s.tables, t)
	if m, _ := filepath.Glob(filepath.Join(dir, "on", "state", "lifetimes", "*.jsonl")); len(m) > 0 {
		s.notes = append(s.notes, fmt.Sprintf("The \"on\" state dir held %d records at the end (diag_keep 50).", len(m)))
	}
	s.info("startup cost of diagnostics", fmt.Sprintf("%s ms (median on − median off; %s)", num(a.median()-b.median()), ratio(a.median(), b.median())))
	return s
}

// seedLifetimes writes n old lifetime records that ended cleanly.
func seedLifetimes(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var errs []error
	for i := 0; i < n; i++ {
		st := time.Now().Add(-time.Hour + time.Duration(i)*time.Second).UTC()
		id := st.Format("20060102T150405.000000Z") + "-" + strconv.Itoa(100000+i)
		rec := fmt.Sprintf(`{"event":"first-line","t":%q,"pid":%d}`+"\n"+`{"event":"exit","t":%q,"reason":"SIGTERM","signal":15,"code":0}`+"\n",
			st.Format(time.RFC3339Nano), 100000+i, st.Format(time.RFC3339Nano))
		errs = append(errs, os.WriteFile(filepath.Join(dir, id+".jsonl"), []byte(rec), 0o600))
	}
	return errors.Join(errs...)
}
