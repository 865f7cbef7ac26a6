// Command webui-bench measures what makes webui fast and cheap, each figure
// next to a peer run in the same invocation (this machine is shared and
// noisy): exec restart under load against stop-then-start, delayed restart
// across an emulated Android kill window against the origin's fixed wait,
// watchdog recovery, startup against a bare Go server and the origin's
// Python stack, idle cost, throughput against the floor and nginx, a
// disconnect storm, the startup cost of diagnostics, and package sizes.
// It writes the tables of BENCHMARKS.md.
//
//	go run ./bench/cmd/webui-bench -out BENCHMARKS.md     (make bench)
//	go run ./bench/cmd/webui-bench -quick                  (smoke run, < 3 min)
//	go run ./bench/cmd/webui-bench -only startup,wrk       (some of them)
//
// It builds what it needs (webui release and webuitest builds, the floor,
// the kill-window fixture), installs wrk, nginx, runit and python3 with
// apt-get when they are missing and it runs as root, and puts all load on
// loopback. The report opens with the performance goals: each headline
// figure against its peers from the same run, as the goal's ratio.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	quick         bool
	restarts      int
	loadWorkers   int
	loadPeriod    time.Duration
	startups      int
	diagRuns      int
	delayedTrials int
	windows       []time.Duration
	killPoll      time.Duration
	wdTrials      int
	wdLanes       int
	idle          time.Duration
	proxyIdle     time.Duration
	wrkDuration   time.Duration
	wrkRounds     int
	wrkConns      int
	wrkThreads    int
	storm         int
	stormConc     int
}

type bench struct {
	cfg  config
	root string
	tmp  string
	b    *bins
	m    *machine
	figs figures
}

// The benchmarks, in the order of BENCHMARKS.md.
var allBenches = []string{"restart", "delayed", "watchdog", "recovery", "startup", "idle", "wrk", "proxy", "storm", "diag", "sizes"}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("webui-bench", flag.ContinueOnError)
	out := fs.String("out", "-", "write the report here (- = stdout)")
	only := fs.String("only", "", "comma separated benchmarks to run (default all): "+strings.Join(allBenches, ","))
	keep := fs.Bool("keep", false, "keep the temp dir (logs, state dirs) for a look afterwards")
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a smoke run: small counts and short durations (under 3 minutes); explicit flags still win")
	fs.IntVar(&c.restarts, "restarts", 50, "restarts under load, for exec and for the stop-then-start baseline")
	fs.IntVar(&c.loadWorkers, "load-workers", 4, "load generator clients during restarts")
	fs.DurationVar(&c.loadPeriod, "load-period", 10*time.Millisecond, "each load client sends one request per period")
	fs.IntVar(&c.startups, "startups", 150, "startups per program")
	fs.IntVar(&c.diagRuns, "diag-runs", 50, "startups with diagnostics on, and as many off")
	fs.IntVar(&c.delayedTrials, "trials", 20, "delayed restart trials per setting and window")
	windows := fs.String("windows", "2s,5s,10s", "kill windows W for the delayed restart")
	fs.DurationVar(&c.killPoll, "kill-poll", 5*time.Millisecond, "how often the kill-window fixture scans /proc")
	fs.IntVar(&c.wdTrials, "wd-trials", 20, "kill -9 recoveries per watchdog setting")
	fs.IntVar(&c.wdLanes, "wd-lanes", 4, "parallel lanes for the default watchdog setting (half as many for the fast one)")
	fs.DurationVar(&c.idle, "idle", 10*time.Minute, "how long to watch the idle processes")
	fs.DurationVar(&c.proxyIdle, "proxy-idle", 2*time.Minute, "how long the proxy section at least watches webui with an idle app and without")
	fs.DurationVar(&c.wrkDuration, "wrk-duration", 6*time.Second, "duration of one wrk run")
	fs.IntVar(&c.wrkRounds, "wrk-rounds", 5, "wrk rounds (each server on each endpoint once per round); the medians of five outlast a neighbour's burst in two")
	fs.IntVar(&c.wrkConns, "wrk-conns", 32, "wrk connections")
	fs.IntVar(&c.wrkThreads, "wrk-threads", 1, "wrk threads")
	fs.IntVar(&c.storm, "storm", 10000, "clients in the disconnect storm")
	fs.IntVar(&c.stormConc, "storm-conc", 200, "storm clients at a time")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.quick {
		q := map[string]func(){
			"restarts":     func() { c.restarts = 5 },
			"startups":     func() { c.startups = 10 },
			"diag-runs":    func() { c.diagRuns = 10 },
			"trials":       func() { c.delayedTrials = 1 },
			"wd-trials":    func() { c.wdTrials = 2 },
			"wd-lanes":     func() { c.wdLanes = 2 },
			"idle":         func() { c.idle = 30 * time.Second },
			"proxy-idle":   func() { c.proxyIdle = 30 * time.Second },
			"wrk-duration": func() { c.wrkDuration = 2 * time.Second },
			"wrk-rounds":   func() { c.wrkRounds = 1 },
			"storm":        func() { c.storm = 1000 },
		}
		for k, f := range q {
			if !set[k] {
				f()
			}
		}
	}
	for _, w := range strings.Split(*windows, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "webui-bench: bad -windows %q\n", *windows)
			return 2
		}
		c.windows = append(c.windows, d)
	}
	want := map[string]bool{}
	if *only == "" {
		for _, b := range allBenches {
			want[b] = true
		}
	} else {
		for _, b := range strings.Split(*only, ",") {
			b = strings.TrimSpace(b)
			if !slices.Contains(allBenches, b) {
				fmt.Fprintf(os.Stderr, "webui-bench: unknown benchmark %q (have %s)\n", b, strings.Join(allBenches, ","))
				return 2
			}
			want[b] = true
		}
	}
	cmdline := "go run ./bench/cmd/webui-bench " + strings.Join(args, " ")
	if slices.Equal(args, []string{"-out", "BENCHMARKS.md"}) {
		cmdline = "make bench"
	}

	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "webui-bench:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "webui-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "webui-bench:", err)
		return 1
	}
	tmp, _ = filepath.EvalSymlinks(tmp)
	cleanup := func() {
		killUnder(tmp)
		if !*keep {
			os.RemoveAll(tmp)
		} else {
			fmt.Fprintf(os.Stderr, "webui-bench: kept %s\n", tmp)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "webui-bench: %v: cleaning up\n", s)
		cleanup()
		os.Exit(1)
	}()
	defer cleanup()

	m := readMachine(root)
	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	go m.watchLoad(ctx)
	progress("webui-bench: %d cores, %s, load average %.2f %.2f %.2f; temp dir %s", m.cores, m.cpu, m.loadStart[0], m.loadStart[1], m.loadStart[2], tmp)
	progress("building webui (release and webuitest), the floor and the kill-window fixture")
	b, err := build(root, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webui-bench:", err)
		return 1
	}
	var toolErrs []string
	if want["wrk"] {
		if b.wrk, err = ensureTool("wrk", "wrk"); err == nil {
			b.nginx, err = ensureTool("nginx", "nginx", "/usr/sbin/nginx")
		}
		if err != nil {
			toolErrs = append(toolErrs, err.Error())
		}
	}
	if want["startup"] && b.nginx == "" {
		if b.nginx, err = ensureTool("nginx", "nginx", "/usr/sbin/nginx"); err != nil {
			toolErrs = append(toolErrs, err.Error())
		}
	}
	if want["recovery"] {
		if b.runsv, err = ensureTool("runsv", "runit", "/usr/bin/runsv", "/usr/sbin/runsv"); err != nil {
			toolErrs = append(toolErrs, err.Error())
		}
	}
	if want["startup"] || want["idle"] {
		if b.python, err = ensureTool("python3", "python3", "/usr/bin/python3"); err != nil {
			toolErrs = append(toolErrs, err.Error())
		}
	}
	bn := &bench{cfg: c, root: root, tmp: tmp, b: b, m: m}
	results := map[string]*section{}
	runOne := func(key string, f func() *section) {
		if !want[key] {
			return
		}
		if key == "wrk" && (b.wrk == "" || b.nginx == "") {
			results[key] = &section{key: key, title: "Throughput and latency (wrk)", err: fmt.Errorf("%s", strings.Join(toolErrs, "; "))}
			return
		}
		progress("== %s", key)
		t0 := time.Now()
		s := f()
		results[key] = s
		if s.err != nil {
			progress("%s failed: %v", key, s.err)
		}
		progress("== %s done in %s", key, time.Since(t0).Round(time.Second))
	}
	// Phase 1, one at a time: what is sensitive to CPU.
	runOne("startup", bn.startup)
	runOne("diag", bn.diagOverhead)
	runOne("restart", bn.restartUnderLoad)
	runOne("recovery", bn.recoveryPeers)
	runOne("wrk", bn.throughput)
	runOne("proxy", bn.proxyCost)
	runOne("storm", bn.storm)
	// Phase 2, together: the long ones that mostly sleep.
	var with []string
	for _, k := range []string{"delayed", "watchdog"} {
		if want[k] {
			with = append(with, map[string]string{"delayed": "the delayed-restart benchmark", "watchdog": "the watchdog benchmark"}[k])
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, p := range []struct {
		key string
		f   func() *section
	}{
		{"idle", func() *section { return bn.idleCost(strings.Join(with, " and ")) }},
		{"delayed", bn.delayedRestart},
		{"watchdog", bn.watchdogRecovery},
	} {
		if !want[p.key] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			progress("== %s (in parallel)", p.key)
			t0 := time.Now()
			s := p.f()
			mu.Lock()
			results[p.key] = s
			mu.Unlock()
			if s.err != nil {
				progress("%s failed: %v", p.key, s.err)
			}
			progress("== %s done in %s", p.key, time.Since(t0).Round(time.Second))
		}()
	}
	wg.Wait()
	// Last: six builds and packages, whose compiles and writeback land in
	// whatever runs next (startup, right after them, measured 1.80x the
	// floor where it measured 1.51-1.61x alone); sizes are bytes, not times.
	runOne("sizes", bn.sizes)
	stopLoad()
	m.loadEnd = loadavg()
	m.took = time.Since(progressStart).Round(time.Second).String()

	var secs []*section
	for _, k := range allBenches {
		if s := results[k]; s != nil {
			s.command = "go run ./bench/cmd/webui-bench -only " + k
			if c.quick {
				s.command += " -quick"
			}
			secs = append(secs, s)
		}
	}
	var buf bytes.Buffer
	writeReport(&buf, m, cmdline, secs, &bn.figs)
	if *out == "-" {
		os.Stdout.Write(buf.Bytes())
	} else if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "webui-bench:", err)
		return 1
	} else {
		progress("wrote %s", *out)
	}
	failed := 0
	for _, s := range secs {
		if s.err != nil {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "webui-bench: %d benchmark(s) failed to run\n", failed)
		return 1
	}
	return 0
}
