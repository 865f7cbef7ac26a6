package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// delayedCfg is one way of carrying a restart across the kill window.
type delayedCfg struct {
	key, name string
	delay     func(w time.Duration) time.Duration
	attempts  int
	survive   time.Duration
	watchdog  bool // a `webui watchdog` runs for the lane: it carries the restart
}

func delayedConfigs() []delayedCfg {
	plus1 := func(w time.Duration) time.Duration { return w + time.Second }
	return []delayedCfg{
		{"helper", "webui, no watchdog (restart helper): restart_delay W+1s", plus1, 5, time.Second, false},
		{"watchdog", "webui, watchdog running: restart_delay W+1s", plus1, 5, time.Second, true},
		{"origin", "origin: fixed 15 s single shot", func(time.Duration) time.Duration { return 15 * time.Second }, 1, time.Second, false},
	}
}

type trial struct {
	ok       bool
	downtime time.Duration // the old server's last /health 200 to the new one's first
	kills    int
	err      string
}

func (bn *bench) delayedRestart() *section {
	s := &section{key: "delayed", title: "Delayed restart across the strict kill window"}
	ws, n := bn.cfg.windows, bn.cfg.delayedTrials
	cfgs := delayedConfigs()
	s.setup = []string{
		fmt.Sprintf("The kill-window fixture (`test/fixtures/killwindow -poll %s`) applies the strict reading of the origin's field observations: when a webui server exits at T, it SIGKILLs every process of the binary (server, restart helper, update confirmer, CLI) exec'd after T−2 s, and every one that starts or execs before T+W; W = %s. Each (setting, W) pair runs in its own lane, all lanes at once: its own copy of the release binary (the fixture matches by executable path), port, state dir and fixture; %d trials in a row per lane.", bn.cfg.killPoll, joinDur(ws), n),
		"A trial: `POST /api/restart` (as the owner: the token and the CSRF token) to the running server (`--restart-mode delayed`), then /health polled every 10 ms. Downtime runs from the old server's last /health 200 to the new server's first; success means the starter (helper or watchdog) recorded `survived` and that server answers.",
		"Settings: webui without a watchdog: the old server execs the restart helper 2.5 s before it exits and serves meanwhile; webui with a watchdog running (`webui watchdog` on its defaults, started with the lane): the watchdog starts the server; both `--restart-delay W+1s --restart-survive 1s --restart-attempts 5`. The origin baseline (its fixed 15 s wait, one shot): `--restart-delay 15s --restart-attempts 1 --restart-survive 1s`. webui's shipped default is restart_delay 15s with 5 attempts.",
	}
	type key struct {
		c int
		w time.Duration
	}
	res := map[key][]trial{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for ci, c := range cfgs {
		for _, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := bn.delayedLane(c, w, n)
				mu.Lock()
				res[key{ci, w}] = tr
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	t := table{header: []string{"setting", "W", "success", "downtime: median", "p25–p75 (min–max)", "starts killed per trial (mean)", "max ≤ W+2 s"}}
	allOK, fastOK, webuiOK, webuiN := true, true, 0, 0
	var sum []string
	for _, w := range ws {
		orig := okDurs(res[key{2, w}]).median()
		for ci, c := range cfgs {
			tr := res[key{ci, w}]
			d := okDurs(tr)
			okN, kills := 0, 0
			for _, x := range tr {
				if x.ok {
					okN++
				}
				kills += x.kills
			}
			mk := "–"
			if len(tr) > 0 {
				mk = fmt.Sprintf("%.2f", float64(kills)/float64(len(tr)))
			}
			within := len(d) > 0 && d.max() <= (w+2*time.Second).Seconds()
			t.add(c.name, w.String(), pct(okN, len(tr)), d.med(" s"), d.spread(" s"), mk, met(within))
			if c.key != "origin" {
				webuiOK += okN
				webuiN += len(tr)
				if okN != len(tr) || len(tr) == 0 {
					allOK = false
				}
				fastOK = fastOK && within
				sum = append(sum, fmt.Sprintf("%s, W=%s: %s s (origin %s s)", c.key, w, num(d.median()), num(orig)))
			}
		}
	}
	s.tables = append(s.tables, t)
	for ci, c := range cfgs {
		for _, w := range ws {
			for i, x := range res[key{ci, w}] {
				if x.err != "" {
					s.notes = append(s.notes, fmt.Sprintf("%s, W=%s, trial %d: %s", c.name, w, i+1, x.err))
				}
			}
		}
	}
	s.target("100 % of webui delayed restarts come back (with and without a watchdog)", fmt.Sprintf("%s trials came back", pct(webuiOK, webuiN)), allOK)
	s.target("webui downtime at most W + 2 s (every trial)", map[bool]string{true: "yes", false: "no"}[fastOK], fastOK)
	s.info("downtime medians, webui vs origin's fixed 15 s", strings.Join(sum, "; "))
	return s
}

func okDurs(tr []trial) sample {
	var s sample
	for _, x := range tr {
		if x.ok {
			s = append(s, x.downtime.Seconds())
		}
	}
	return s
}

func joinDur(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, ", ")
}

// delayedLane runs n trials of one setting against one window.
func (bn *bench) delayedLane(c delayedCfg, w time.Duration, n int) []trial {
	fail := func(err error) []trial { return []trial{{err: err.Error()}} }
	dir := filepath.Join(bn.tmp, "delayed", fmt.Sprintf("%s-%s", c.key, w))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	bin := filepath.Join(dir, "webui")
	if err := copyFile(bn.b.webui, bin, 0o755); err != nil {
		return fail(err)
	}
	defer killUnder(dir)
	klog := filepath.Join(dir, "killwindow.out")
	kw, err := spawn(bn.b.killwin, []string{"-exe", bin, "-window", w.String(), "-poll", bn.cfg.killPoll.String()}, os.Environ(), klog)
	if err != nil {
		return fail(err)
	}
	defer kw.stop(syscall.SIGKILL, time.Second)
	if err := waitFileContains(klog, "ready", 10*time.Second); err != nil {
		return fail(err)
	}
	in, err := newInst(bin, dir)
	if err != nil {
		return fail(err)
	}
	flags := []string{"--restart-mode", "delayed", "--restart-delay", c.delay(w).String(),
		"--restart-survive", c.survive.String(), "--restart-attempts", strconv.Itoa(c.attempts)}
	start := func() (*health, error) {
		if _, err := in.serve(flags...); err != nil {
			return nil, err
		}
		h, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil)
		if err != nil || !c.watchdog {
			return h, err
		}
		args := append([]string{"watchdog"}, in.settings()...)
		if _, err := spawn(in.bin, args, cleanEnv(in.dir), in.path("watchdog-out.txt")); err != nil {
			return nil, err
		}
		if err := waitFileContains(in.path("log/watchdog.log"), "watchdog started", 10*time.Second); err != nil {
			return nil, err
		}
		return h, nil
	}
	h, err := start()
	if err != nil {
		return fail(err)
	}
	var out []trial
	for i := 0; i < n; i++ {
		tr, nh := bn.delayedTrial(in, h, klog)
		out = append(out, tr)
		progress("delayed: %s, W=%s: trial %d/%d: ok=%v downtime %.2fs kills=%d %s", c.key, w, i+1, n, tr.ok, tr.downtime.Seconds(), tr.kills, tr.err)
		if nh == nil {
			// Start over: clear the lane, wait out the window, start fresh.
			killUnder(dir)
			time.Sleep(w + time.Second)
			if nh, err = start(); err != nil {
				out = append(out, trial{err: "restart the lane: " + err.Error()})
				return out
			}
		}
		h = nh
		time.Sleep(100 * time.Millisecond)
	}
	stopPID(h.PID, 10*time.Second)
	return out
}

// delayedTrial requests one restart of the server h and follows it.
func (bn *bench) delayedTrial(in *inst, h *health, klog string) (trial, *health) {
	var tr trial
	before := countIn(klog, "killed pid")
	rec := filepath.Join(in.path("state"), "lifetimes", h.StartedAt.UTC().Format("20060102T150405.000000Z")+"-"+strconv.Itoa(h.PID)+".jsonl")
	t0 := time.Now()
	if err := csrfPost(in.addr, in.path("state"), "/api/restart"); err != nil {
		tr.err = "restart request: " + err.Error()
		return tr, nil
	}
	seen := map[int]time.Time{}
	lastOld := t0
	deadline := t0.Add(3 * time.Minute)
	step := ""
	for time.Now().Before(deadline) {
		if hh, code, err := getHealth(in.addr, false); err == nil && code == 200 {
			now := time.Now()
			if hh.PID == h.PID {
				lastOld = now
			} else if _, ok := seen[hh.PID]; !ok {
				seen[hh.PID] = now
			}
		}
		if step = helperOutcome(rec); step != "" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr.kills = countIn(klog, "killed pid") - before
	nh, err := waitHealth(in.addr, 5*time.Second, 20*time.Millisecond, func(x *health) bool { return x.PID != h.PID })
	switch {
	case step == "":
		tr.err = "the restart's starter did not finish within 3 minutes"
	case step != "survived":
		tr.err = "the restart's starter gave up"
	case err != nil:
		tr.err = "no new server: " + err.Error()
	default:
		if at, ok := seen[nh.PID]; ok {
			tr.ok, tr.downtime = true, at.Sub(lastOld)
		} else {
			tr.err = "the surviving server was never seen healthy"
		}
	}
	if err != nil {
		return tr, nil
	}
	return tr, nh
}

// helperOutcome is the restart helper's last word in a lifetime record:
// "survived", "gave-up" or "" (still at work).
func helperOutcome(rec string) string {
	b, err := os.ReadFile(rec)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct{ Event, Step string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "helper" && (ev.Step == "survived" || ev.Step == "gave-up") {
			return ev.Step
		}
	}
	return ""
}

func countIn(path, sub string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte(sub))
}
