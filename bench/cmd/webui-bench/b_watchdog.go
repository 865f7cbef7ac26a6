package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

type wdCfg struct {
	key, name string
	phase     time.Duration // the kill comes a random 1–2 of these after the watchdog's first probe
	flags     []string
	lanes     int
}

func (bn *bench) watchdogRecovery() *section {
	s := &section{key: "watchdog", title: "Recovery after kill -9 by the watchdog"}
	n := bn.cfg.wdTrials
	cfgs := []wdCfg{
		{"defaults", "defaults: `webui watchdog` (interval 30s, failures 2, timeout 3s)", 5 * time.Second, nil, bn.cfg.wdLanes},
		{"fast", "fast: `webui watchdog --interval 1s --failures 2 --timeout 1s`", time.Second, []string{"--interval", "1s", "--failures", "2", "--timeout", "1s"}, max(1, bn.cfg.wdLanes/2)},
	}
	s.setup = []string{
		"The server runs from the release build, started by `webui ctl start`. A trial starts a fresh `webui watchdog` (so the crash-loop backoff, which only counts servers that die before they were stable for a minute, starts from zero, as after any long healthy run), waits until it polls, waits a random 1–2 phases (5 s for the defaults, 1 s for the fast setting: a random phase against its probes), SIGKILLs the server, and times from the kill to the first /health 200 of the new server (polled every 10 ms).",
		fmt.Sprintf("%d trials per setting, split over parallel lanes (own directories and port each).", n),
		"Expected: the watchdog learns of the death from its shared flock on the server's pid file, which the kernel grants the moment the server is gone, so kill → healthy is the watchdog's reaction plus a start of the server; the probe interval plays no part. The fast setting only probes more often.",
	}
	type res struct {
		d    []time.Duration
		errs []string
	}
	results := make([]res, len(cfgs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for ci, c := range cfgs {
		per := (n + c.lanes - 1) / c.lanes
		for k := 0; k < c.lanes; k++ {
			m := min(per, n-k*per)
			if m <= 0 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, errs := bn.watchdogLane(c, k, m)
				mu.Lock()
				results[ci].d = append(results[ci].d, d...)
				results[ci].errs = append(results[ci].errs, errs...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	t := table{header: []string{"watchdog", "trials", "kill → healthy: median", "p25–p75 (min–max)"}}
	for ci, c := range cfgs {
		d := durs(results[ci].d)
		for i := range d {
			d[i] /= 1000 // seconds
		}
		if c.key == "defaults" {
			bn.figs.set("recovery.watchdog", d.median())
		}
		t.add(c.name, fmt.Sprintf("%d", len(d)), d.med(" s"), d.spread(" s"))
		for _, e := range results[ci].errs {
			s.notes = append(s.notes, c.key+": "+e)
		}
		ok := len(d) == n && len(results[ci].errs) == 0
		s.target(fmt.Sprintf("%s: every kill -9 recovered", c.key), fmt.Sprintf("%d/%d recovered, median %s s", len(d), n, num(d.median())), ok)
	}
	s.tables = append(s.tables, t)
	return s
}

func (bn *bench) watchdogLane(c wdCfg, k, n int) ([]time.Duration, []string) {
	var out []time.Duration
	var errs []string
	in, err := newInst(bn.b.webui, filepath.Join(bn.tmp, "watchdog", fmt.Sprintf("%s-%d", c.key, k)))
	if err != nil {
		return nil, []string{err.Error()}
	}
	ctl := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, in.bin, append(args, in.settings()...)...)
		cmd.Env = cleanEnv(in.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("webui %v: %v: %s", args, err, out)
		}
		return nil
	}
	if err := ctl("ctl", "start"); err != nil {
		return nil, []string{err.Error()}
	}
	defer func() { _ = ctl("ctl", "stop") }()
	if _, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil); err != nil {
		return nil, []string{err.Error()}
	}
	wlog := in.path("log/watchdog.log")
	for i := 0; i < n; i++ {
		args := append(append([]string{"watchdog"}, in.settings()...), c.flags...)
		wd, err := spawn(in.bin, args, cleanEnv(in.dir), in.path("watchdog-out.txt"))
		if err != nil {
			errs = append(errs, err.Error())
			break
		}
		d, err := func() (time.Duration, error) {
			defer wd.stop(syscall.SIGTERM, 5*time.Second)
			deadline := time.Now().Add(15 * time.Second)
			for countIn(wlog, "polling http://") < i+1 {
				if time.Now().After(deadline) || !wd.alive() {
					return 0, fmt.Errorf("trial %d: the watchdog did not start polling", i+1)
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(c.phase + time.Duration(rand.Float64()*float64(c.phase)))
			h, err := waitHealth(in.addr, 5*time.Second, 10*time.Millisecond, nil)
			if err != nil {
				return 0, err
			}
			t0 := time.Now()
			if err := syscall.Kill(h.PID, syscall.SIGKILL); err != nil {
				return 0, err
			}
			if _, err := waitHealth(in.addr, 90*time.Second, 10*time.Millisecond, func(x *health) bool { return x.PID != h.PID }); err != nil {
				return 0, fmt.Errorf("trial %d: %w", i+1, err)
			}
			return time.Since(t0), nil
		}()
		if err != nil {
			errs = append(errs, err.Error())
			b, _ := os.ReadFile(wlog)
			if len(b) > 2000 {
				b = b[len(b)-2000:]
			}
			errs = append(errs, "watchdog log tail: "+string(b))
			break
		}
		out = append(out, d)
		progress("watchdog: %s lane %d: trial %d/%d: %.2fs", c.key, k, i+1, n, d.Seconds())
	}
	return out, errs
}
