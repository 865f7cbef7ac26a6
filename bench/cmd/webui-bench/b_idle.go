package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// idleProc is one process watched while idle.
type idleProc struct {
	name  string
	pid   int
	rss   sample // MiB, every sample
	cpu   sample // CPU seconds per hour, per slice
	cs    sample // context switches per minute, per slice
	last  procStat
	first procStat
	perf  *exec.Cmd
	pout  *bytes.Buffer
	thr   int
}

func (bn *bench) idleCost(concurrent string) *section {
	s := &section{key: "idle", title: "Idle cost"}
	dur := bn.cfg.idle
	slice := min(time.Minute, dur/3)
	s.setup = []string{
		fmt.Sprintf("webui release build serving on its defaults (access log on, diagnostics on), watched by `webui watchdog` on its defaults; %s idle after a 5 s warm-up. No other requests.", dur),
		"Peers in the same window, idle and never asked anything: the floor (`bench/floor`) and the origin's stack (`bench/peers/pyhealth.py`).",
		fmt.Sprintf("RSS is VmRSS from /proc/PID/status every 5 s; CPU is the run time summed over /proc/PID/task/*/schedstat, and context switches (wakeups) are voluntary+nonvoluntary summed over /proc/PID/task/*/status, both per %s slice, scaled to an hour and a minute; `perf stat -e context-switches -p PID` counts the same over the whole window where perf works.", slice),
	}
	if concurrent != "" {
		s.setup = append(s.setup, "Ran at the same time as "+concurrent+", whose processes mostly sleep; per-process CPU time and wakeups are the idle processes' own, so they hardly change, but read them as an upper bound.")
	}
	dir := filepath.Join(bn.tmp, "idle")
	in, err := newInst(bn.b.webui, filepath.Join(dir, "webui"))
	if err != nil {
		s.err = err
		return s
	}
	srv, err := in.serve()
	if err != nil {
		s.err = err
		return s
	}
	defer srv.stop(syscall.SIGTERM, 10*time.Second)
	if _, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil); err != nil {
		s.err = err
		return s
	}
	wd, err := spawn(in.bin, append([]string{"watchdog"}, in.settings()...), cleanEnv(in.dir), in.path("watchdog-out.txt"))
	if err != nil {
		s.err = err
		return s
	}
	defer wd.stop(syscall.SIGTERM, 5*time.Second)
	procs := []*idleProc{{name: "webui server", pid: srv.pid()}, {name: "webui watchdog", pid: wd.pid()}}
	faddr, _ := freeAddr()
	if fl, err := spawn(bn.b.floor, []string{"-addr", faddr}, os.Environ(), filepath.Join(dir, "floor.txt")); err == nil {
		defer fl.stop(syscall.SIGTERM, 5*time.Second)
		procs = append(procs, &idleProc{name: "floor (bare Go net/http)", pid: fl.pid()})
	}
	if bn.b.python != "" {
		paddr, _ := freeAddr()
		if py, err := spawn(bn.b.python, []string{bn.b.pyhealth, paddr}, os.Environ(), filepath.Join(dir, "py.txt")); err == nil {
			defer py.stop(syscall.SIGTERM, 5*time.Second)
			procs = append(procs, &idleProc{name: "python ThreadingHTTPServer", pid: py.pid()})
		}
	}
	time.Sleep(5 * time.Second)
	perf, _ := exec.LookPath("perf")
	for _, p := range procs {
		p.last = readProc(p.pid)
		p.first = p.last
		if perf != "" {
			p.pout = &bytes.Buffer{}
			p.perf = exec.Command(perf, "stat", "-x", ",", "-e", "context-switches,task-clock", "-p", strconv.Itoa(p.pid), "--", "sleep", strconv.Itoa(int(dur.Seconds())))
			p.perf.Stderr = p.pout
			if p.perf.Start() != nil {
				p.perf = nil
			}
		}
	}
	progress("idle: watching %d processes for %s", len(procs), dur)
	begin, sliceStart := time.Now(), time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for time.Since(begin) < dur {
		<-tick.C
		for _, p := range procs {
			st := readProc(p.pid)
			if st.readFailed {
				continue
			}
			p.rss = append(p.rss, float64(st.rssKiB)/1024)
			p.thr = st.threads
		}
		if el := time.Since(sliceStart); el >= slice-time.Second {
			for _, p := range procs {
				st := readProc(p.pid)
				if st.readFailed {
					continue
				}
				p.cpu = append(p.cpu, float64(st.runNs-p.last.runNs)/1e9*float64(time.Hour)/float64(el))
				p.cs = append(p.cs, float64(st.ctxSwitch-p.last.ctxSwitch)*float64(time.Minute)/float64(el))
				p.last = st
			}
			sliceStart = time.Now()
			progress("idle: %s of %s", time.Since(begin).Round(time.Second), dur)
		}
	}
	total := time.Since(begin)
	t := table{header: []string{"process", "RSS median (min–max)", "CPU-s per hour (whole window; schedstat / stat ticks)", "CPU-s per hour per slice: median (p25–p75, min–max)", "wakeups/min (/proc ctx switches): median (p25–p75)", "perf context-switches/min", "threads", "RSS ÷ floor"}}
	var floorRSS float64
	for _, p := range procs {
		if strings.HasPrefix(p.name, "floor") {
			floorRSS = p.rss.median()
		}
	}
	var srvRSS, cpuSum, srvCPU, wdCPU float64
	for _, p := range procs {
		pf := "–"
		if p.perf != nil {
			_ = p.perf.Wait()
			if n, ok := perfCount(p.pout.String(), "context-switches"); ok {
				pf = num(n * float64(time.Minute) / float64(total))
			}
		}
		whole := float64(p.last.runNs-p.first.runNs) / 1e9 * float64(time.Hour) / float64(total)
		ticks := float64(p.last.cpuTicks-p.first.cpuTicks) / 100 * float64(time.Hour) / float64(total)
		t.add(p.name, fmt.Sprintf("%s MiB (%s–%s)", num(p.rss.median()), num(p.rss.min()), num(p.rss.max())),
			num(whole)+" s / "+num(ticks)+" s", p.cpu.med(" s")+" ("+p.cpu.spread("")+")", p.cs.med("")+" ("+num(p.cs.q(0.25))+"–"+num(p.cs.q(0.75))+")", pf, strconv.Itoa(p.thr), ratio(p.rss.median(), floorRSS))
		switch {
		case strings.HasPrefix(p.name, "floor"):
			bn.figs.set("idle.floor", whole)
		case strings.HasPrefix(p.name, "python"):
			bn.figs.set("idle.python", whole)
		}
		switch p.name {
		case "webui server":
			srvRSS = p.rss.max()
			cpuSum += whole
			srvCPU = float64(p.last.runNs - p.first.runNs)
		case "webui watchdog":
			cpuSum += whole
			wdCPU = float64(p.last.runNs - p.first.runNs)
		}
	}
	s.tables = append(s.tables, t)
	// Notes from the figures: the probes the watchdog made in the window
	// (counted in the server's log, where they are debug lines, or from
	// the interval the watchdog says it polls at) and the CPU per probe.
	if every := pollInterval(in.path("log/watchdog.log")); every > 0 {
		probes := float64(total / every)
		floorCPU, _ := bn.figs.get("idle.floor")
		s.notes = append(s.notes, fmt.Sprintf("The watchdog polled every %s: %d probes in the window, %s ms of server CPU and %s ms of watchdog CPU per probe if the probes are all they do (the idle floor, asked nothing, used %s CPU-s/h in the same window).",
			every, int(probes), num(srvCPU/1e6/probes), num(wdCPU/1e6/probes), num(floorCPU)))
	}
	s.notes = append(s.notes, "CPU time is the scheduler's per-thread run time (/proc/PID/task/*/schedstat); utime+stime from /proc/PID/stat, in 10 ms ticks, is shown after the slash.")
	srvH, wdH := srvCPU/1e9*float64(time.Hour)/float64(total), wdCPU/1e9*float64(time.Hour)/float64(total)
	bn.figs.set("idle.cpu", cpuSum)
	bn.figs.set("idle.server", srvH)
	bn.figs.set("idle.watchdog", wdH)
	s.target("server RSS ≤ 20 MiB", fmt.Sprintf("max %s MiB", num(srvRSS)), srvRSS <= 20)
	s.target("server + watchdog ≤ 0.3 CPU-seconds per hour", fmt.Sprintf("%s CPU-s/h (server %s + watchdog %s, over %s)", num(cpuSum), num(srvH), num(wdH), total.Round(time.Second)), cpuSum <= 0.3)
	return s
}

// perfCount reads one event's count from `perf stat -x ,` output.
func perfCount(out, event string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) >= 3 && strings.HasPrefix(f[2], event) {
			v, err := strconv.ParseFloat(f[0], 64)
			return v, err == nil
		}
	}
	return 0, false
}

var pollRe = regexp.MustCompile(`polling http://\S+ every (\S+)`)

// pollInterval is the probe interval the watchdog's log says it uses, or 0.
func pollInterval(logPath string) time.Duration {
	b, _ := os.ReadFile(logPath)
	m := pollRe.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return 0
	}
	d, _ := time.ParseDuration(string(m[len(m)-1][1]))
	return d
}
