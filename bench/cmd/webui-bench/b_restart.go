package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// reqRec is one request of the load generator.
type reqRec struct {
	start   time.Time
	dur     time.Duration
	failed  bool
	refused bool
}

// load is a steady load: workers each sending one request per period on a
// keep-alive connection, half to /health and half to /assets/app.css.
type load struct {
	mu   sync.Mutex
	recs []reqRec
	errs map[string]int
}

func runLoad(ctx context.Context, addr, auth string, workers int, period time.Duration) (*load, func()) {
	l := &load{errs: map[string]int{}}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			path := "/health"
			if w%2 == 1 {
				path = "/assets/app.css"
			}
			next := time.Now()
			for ctx.Err() == nil {
				begin := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+path, nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := c.Do(req)
				if err != nil && ctx.Err() != nil {
					return
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				r := reqRec{start: begin, dur: time.Since(begin), failed: err != nil}
				if err != nil {
					r.refused = errors.Is(err, syscall.ECONNREFUSED)
				}
				l.mu.Lock()
				l.recs = append(l.recs, r)
				if err != nil {
					l.errs[errClass(err)]++
				}
				l.mu.Unlock()
				next = next.Add(period)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				} else {
					next = time.Now()
				}
			}
		}()
	}
	return l, wg.Wait
}

func errClass(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

// window is one restart: from the request to the new server's first
// healthy answer.
type window struct{ from, to time.Time }

type restartResult struct {
	name                 string
	restarts             int
	total, failed        int
	inWin, inWinFailed   int
	refused              int
	winLat, allLat       []time.Duration
	restartTimes         []time.Duration
	errs                 map[string]int
	samePID              bool
	err                  error
	perRestartMaxLatency []time.Duration
}

func analyse(name string, l *load, wins []window) restartResult {
	r := restartResult{name: name, restarts: len(wins), errs: l.errs}
	l.mu.Lock()
	defer l.mu.Unlock()
	perMax := make([]time.Duration, len(wins))
	for _, q := range l.recs {
		r.total++
		if q.failed {
			r.failed++
		}
		if q.refused {
			r.refused++
		}
		if !q.failed {
			r.allLat = append(r.allLat, q.dur)
		}
		end := q.start.Add(q.dur)
		for i, w := range wins {
			if q.start.Before(w.to) && end.After(w.from) {
				r.inWin++
				if q.failed {
					r.inWinFailed++
				} else {
					r.winLat = append(r.winLat, q.dur)
					perMax[i] = max(perMax[i], q.dur)
				}
				break
			}
		}
	}
	for _, w := range wins {
		r.restartTimes = append(r.restartTimes, w.to.Sub(w.from))
	}
	r.perRestartMaxLatency = perMax
	return r
}

func (bn *bench) restartUnderLoad() *section {
	s := &section{key: "restart", title: "Exec restart under load"}
	n, workers, period := bn.cfg.restarts, bn.cfg.loadWorkers, bn.cfg.loadPeriod
	s.setup = []string{
		fmt.Sprintf("Load: %d clients on keep-alive connections, half on `/health` and half on the static `/assets/app.css`, each sending one request every %s (%d requests/s in all), through all restarts. A request counts as in a restart window if it overlaps the time from the restart request to the first /health answer of the new server.", workers, period, int(float64(workers)*float64(time.Second)/float64(period))),
		fmt.Sprintf("webui: release build, `--restart-mode exec`, access log on; %d restarts by SIGUSR2, each waiting for /health to show a new started_at (polled every 5 ms), then 200 ms of steady load.", n),
		fmt.Sprintf("Baseline, same run, same load: stop-then-start, what a naive restart or runit does: SIGTERM, wait for the exit, start the same binary again on the same port; %d times.", n),
	}
	var results []restartResult
	for _, mode := range []string{"exec", "stop-start"} {
		progress("restart: %s × %d under load", mode, n)
		results = append(results, bn.restartRun(mode, n, workers, period))
	}
	t := table{header: []string{"restart", "restarts", "requests (in windows)", "failed (in windows)", "refused", "restart time median (p25–p75, min–max)", "latency in windows p50 / p99 / max", "per-restart max latency median (p25–p75, min–max)", "latency overall p99"}}
	for _, r := range results {
		if r.err != nil {
			t.add(r.name, "–", "failed to run: "+r.err.Error())
			continue
		}
		wl, al, rt, pm := durs(r.winLat), durs(r.allLat), durs(r.restartTimes), durs(r.perRestartMaxLatency)
		t.add(r.name, strconv.Itoa(r.restarts), fmt.Sprintf("%d (%d)", r.total, r.inWin), fmt.Sprintf("%d (%d)", r.failed, r.inWinFailed),
			strconv.Itoa(r.refused), rt.med(" ms")+" ("+rt.spread(" ms")+")",
			fmt.Sprintf("%s / %s / %s ms", num(wl.median()), num(wl.q(0.99)), num(wl.max())),
			pm.med(" ms")+" ("+pm.spread(" ms")+")", num(al.q(0.99))+" ms")
	}
	s.tables = append(s.tables, t)
	for _, r := range results {
		if len(r.errs) > 0 {
			s.notes = append(s.notes, fmt.Sprintf("%s: errors by kind: %v", r.name, r.errs))
		}
	}
	ex, base := results[0], results[1]
	if ex.err != nil {
		s.err = ex.err
		return s
	}
	if !ex.samePID {
		s.notes = append(s.notes, "**The exec restart changed the pid**: it is not an exec in place.")
	}
	exMax := durs(ex.winLat).max()
	s.target("exec restart: 0 failed or refused requests", fmt.Sprintf("%d failed, %d refused of %d (%d in %d restart windows)", ex.failed, ex.refused, ex.total, ex.inWin, ex.restarts), ex.failed == 0 && ex.refused == 0)
	s.target("exec restart: max latency in the windows < 100 ms", fmt.Sprintf("max %s ms, p99 %s ms", num(exMax), num(durs(ex.winLat).q(0.99))), exMax < 100 && len(ex.winLat) > 0)
	if base.err == nil {
		s.info("baseline stop-then-start", fmt.Sprintf("%d failed (%d refused) of %d; restart %s ms vs exec %s ms (%s)", base.failed, base.refused, base.total,
			num(durs(base.restartTimes).median()), num(durs(ex.restartTimes).median()), ratio(durs(ex.restartTimes).median(), durs(base.restartTimes).median())))
	}
	return s
}

func (bn *bench) restartRun(mode string, n, workers int, period time.Duration) (res restartResult) {
	res.name = "webui exec (SIGUSR2)"
	if mode != "exec" {
		res.name = "stop-then-start (SIGTERM, wait, start)"
	}
	in, err := newInst(bn.b.webui, filepath.Join(bn.tmp, "restart", mode))
	if err != nil {
		res.err = err
		return res
	}
	srv, err := in.serve("--restart-mode", "exec")
	if err != nil {
		res.err = err
		return res
	}
	defer func() { srv.stop(syscall.SIGTERM, 10*time.Second) }()
	h0, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil)
	if err != nil {
		res.err = err
		return res
	}
	ctx, cancel := context.WithCancel(context.Background())
	l, wait := runLoad(ctx, in.addr, authHeader(in.path("state")), workers, period)
	time.Sleep(500 * time.Millisecond)
	prev := h0
	var wins []window
	res.samePID = true
	for i := 0; i < n && res.err == nil; i++ {
		t0 := time.Now()
		if mode == "exec" {
			err = srv.cmd.Process.Signal(syscall.SIGUSR2)
		} else {
			srv.stop(syscall.SIGTERM, 10*time.Second)
			srv, err = in.serve("--restart-mode", "exec")
		}
		if err != nil {
			res.err = err
			break
		}
		h, err := waitHealth(in.addr, 15*time.Second, 5*time.Millisecond, func(h *health) bool { return !h.StartedAt.Equal(prev.StartedAt) })
		if err != nil {
			res.err = fmt.Errorf("restart %d: %w", i+1, err)
			break
		}
		wins = append(wins, window{t0, time.Now()})
		if mode == "exec" && h.PID != h0.PID {
			res.samePID = false
		}
		prev = h
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	wait()
	r := analyse(res.name, l, wins)
	r.samePID, r.err = res.samePID, res.err
	return r
}
