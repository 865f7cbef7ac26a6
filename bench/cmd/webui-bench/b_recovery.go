package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// recoveryPeers measures what webui's watchdog is compared with after a
// kill -9: runit's runsv restarting the service, and a start at once
// (stop-then-start with no delay: the least any restart costs).
func (bn *bench) recoveryPeers() *section {
	s := &section{key: "recovery", title: "Recovery after kill -9: peers"}
	n := bn.cfg.wdTrials
	s.setup = []string{
		fmt.Sprintf("%d trials per peer, each a SIGKILL of a healthy webui server (release build) and the time from the kill to the first /health 200 of the next server (polled every 10 ms).", n),
		"runit: `runsv` supervising a service whose `run` script execs `webui serve` (Debian's runit package; runsv restarts a service that exits, pausing 1 s between starts).",
		"stop-then-start: the benchmark itself starts `webui serve` again the moment the killed one is reaped: what a supervisor with no restart delay would achieve.",
		"The watchdog's own figure is in the watchdog section; the goal table sets them side by side.",
	}
	t := table{header: []string{"peer", "trials", "kill → healthy: median", "p25–p75 (min–max)"}}
	if bn.b.runsv == "" {
		s.notes = append(s.notes, "runit: not measured: runsv is not installed (`apt-get install runit`).")
	} else if d, err := bn.runitTrials(n); err != nil {
		s.notes = append(s.notes, "runit: "+err.Error())
	} else {
		ds := durs(d)
		t.add("runit (runsv)", strconv.Itoa(len(ds)), ds.med(" ms"), ds.spread(" ms"))
		bn.figs.set("recovery.runit", ds.median()/1000)
		s.info("runit: kill -9 → healthy", ds.med(" ms")+" median")
	}
	if d, err := bn.immediateTrials(n); err != nil {
		s.err = err
	} else {
		ds := durs(d)
		t.add("stop-then-start (start at once)", strconv.Itoa(len(ds)), ds.med(" ms"), ds.spread(" ms"))
		bn.figs.set("recovery.restart", ds.median()/1000)
		s.info("stop-then-start: kill -9 → healthy", ds.med(" ms")+" median")
	}
	s.tables = append(s.tables, t)
	return s
}

// killAndTime SIGKILLs the server answering at addr and times until a
// server with another pid answers.
func killAndTime(addr string) (time.Duration, error) {
	h, err := waitHealth(addr, 15*time.Second, 10*time.Millisecond, nil)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := syscall.Kill(h.PID, syscall.SIGKILL); err != nil {
		return 0, err
	}
	if _, err := waitHealth(addr, 30*time.Second, 10*time.Millisecond, func(x *health) bool { return x.PID != h.PID }); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func (bn *bench) runitTrials(n int) ([]time.Duration, error) {
	in, err := newInst(bn.b.webui, filepath.Join(bn.tmp, "recovery", "runit"))
	if err != nil {
		return nil, err
	}
	svc := in.path("service")
	if err := os.MkdirAll(svc, 0o755); err != nil {
		return nil, err
	}
	quoted := make([]string, 0, 8)
	for _, a := range append([]string{in.bin, "serve"}, in.settings()...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	run := "#!/bin/sh\nexec 2>&1\nexec " + strings.Join(quoted, " ") + "\n"
	if err := os.WriteFile(filepath.Join(svc, "run"), []byte(run), 0o755); err != nil {
		return nil, err
	}
	rs, err := spawn(bn.b.runsv, []string{svc}, cleanEnv(in.dir), in.path("runsv.txt"))
	if err != nil {
		return nil, err
	}
	defer func() {
		// Down the service, then let runsv go.
		_ = os.WriteFile(filepath.Join(svc, "supervise", "control"), []byte("dx"), 0o600)
		rs.stop(syscall.SIGTERM, 10*time.Second)
		killUnder(in.dir)
	}()
	var out []time.Duration
	for i := 0; i < n; i++ {
		// runsv pauses 1 s between starts; a healthy second keeps trials
		// apart the same way for both peers.
		time.Sleep(time.Second)
		d, err := killAndTime(in.addr)
		if err != nil {
			return out, fmt.Errorf("trial %d: %w", i+1, err)
		}
		out = append(out, d)
		progress("recovery: runit trial %d/%d: %s", i+1, n, d.Round(time.Millisecond))
	}
	return out, nil
}

func (bn *bench) immediateTrials(n int) ([]time.Duration, error) {
	in, err := newInst(bn.b.webui, filepath.Join(bn.tmp, "recovery", "restart"))
	if err != nil {
		return nil, err
	}
	c, err := in.serve()
	if err != nil {
		return nil, err
	}
	defer func() { c.stop(syscall.SIGTERM, 10*time.Second) }()
	var out []time.Duration
	for i := 0; i < n; i++ {
		time.Sleep(time.Second)
		h, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil)
		if err != nil {
			return out, err
		}
		t0 := time.Now()
		if err := syscall.Kill(h.PID, syscall.SIGKILL); err != nil {
			return out, err
		}
		<-c.done
		if c, err = in.serve(); err != nil {
			return out, err
		}
		if _, err := waitHealth(in.addr, 30*time.Second, 10*time.Millisecond, func(x *health) bool { return x.PID != h.PID }); err != nil {
			return out, fmt.Errorf("trial %d: %w", i+1, err)
		}
		d := time.Since(t0)
		out = append(out, d)
		progress("recovery: stop-then-start trial %d/%d: %s", i+1, n, d.Round(time.Millisecond))
	}
	return out, nil
}
