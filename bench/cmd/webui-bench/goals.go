package main

import (
	"fmt"
	"io"
	"sync"
)

// figures are the headline numbers the sections measure, by key, for the
// goal table: sections run apart (some in parallel), the table needs them
// side by side.
type figures struct {
	mu sync.Mutex
	m  map[string]float64
}

func (f *figures) set(key string, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]float64{}
	}
	f.m[key] = v
}

func (f *figures) get(key string) (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	return v, ok && v > 0
}

// goalRow is one row of the performance goals: webui's figure, its peers
// measured in the same run, and the goal as a ratio or a bound.
type goalRow struct {
	figure, webui, peers, goal, met string
}

// goalRows builds the goal table from whatever this run measured; a row
// whose benchmark did not run says so and how to run it.
func goalRows(f *figures) []goalRow {
	notRun := func(figure, goal, only string) goalRow {
		return goalRow{figure, "not measured in this run", "`-only " + only + "`", goal, "–"}
	}
	var rows []goalRow

	// Recovery after kill -9.
	const recGoal = "≤ 0.5 s median"
	if wd, ok := f.get("recovery.watchdog"); ok {
		peers := ""
		if r, ok := f.get("recovery.runit"); ok {
			peers += fmt.Sprintf("runit (runsv) %s s: webui takes %s of its time", num(r), ratio(wd, r))
		} else {
			peers += "runit: not measured (`-only recovery`)"
		}
		if r, ok := f.get("recovery.restart"); ok {
			peers += fmt.Sprintf("; an immediate start (stop-then-start) %s s", num(r))
		}
		rows = append(rows, goalRow{"kill -9 → healthy through `webui watchdog` on its defaults", num(wd) + " s median", peers, recGoal, met(wd <= 0.5)})
	} else {
		rows = append(rows, notRun("kill -9 → healthy through `webui watchdog` on its defaults", recGoal, "watchdog,recovery"))
	}

	// Startup.
	if w, ok := f.get("startup.webui"); ok {
		fl, _ := f.get("startup.floor")
		peers := fmt.Sprintf("floor %s ms", num(fl))
		if n, ok := f.get("startup.nginx"); ok {
			peers += fmt.Sprintf("; nginx %s ms (webui %s of it)", num(n), ratio(w, n))
		}
		if p, ok := f.get("startup.python"); ok {
			peers += fmt.Sprintf("; python %s ms (webui %s of it)", num(p), ratio(w, p))
		}
		rows = append(rows, goalRow{"startup, exec to first `/health` 200", fmt.Sprintf("%s ms: %s the floor", num(w), ratio(w, fl)), peers, "≤ 1.5× the floor", met(w <= 1.5*fl)})
	} else {
		rows = append(rows, notRun("startup, exec to first `/health` 200", "≤ 1.5× the floor", "startup"))
	}

	// Throughput rows. The goal was set for a "12 KiB" asset; the row says
	// what was served.
	asset := "console asset, access log on"
	if b, ok := f.get("wrk.css.bytes"); ok {
		asset = fmt.Sprintf("%.1f KiB console asset (the stylesheet), access log on", b/1024)
	}
	for _, r := range []struct{ key, figure string }{
		{"css", asset},
		{"health", "`/health` req/s"},
	} {
		w, ok := f.get("wrk." + r.key + ".webui")
		if !ok {
			rows = append(rows, notRun(r.figure, "≥ 0.8× the floor", "wrk"))
			continue
		}
		fl, _ := f.get("wrk." + r.key + ".floor")
		peers := fmt.Sprintf("floor %s req/s", num(fl))
		if n, ok := f.get("wrk." + r.key + ".nginx"); ok {
			peers += fmt.Sprintf("; nginx %s req/s (%s the floor)", num(n), ratio(n, fl))
		}
		if off, ok := f.get("wrk." + r.key + ".nolog"); ok {
			peers += fmt.Sprintf("; webui with the access log off %s the floor", ratio(off, fl))
		}
		rows = append(rows, goalRow{r.figure, fmt.Sprintf("%s req/s: %s the floor", num(w), ratio(w, fl)), peers, "≥ 0.8× the floor", met(w >= 0.8*fl)})
	}

	// Idle.
	if c, ok := f.get("idle.cpu"); ok {
		s, _ := f.get("idle.server")
		wd, _ := f.get("idle.watchdog")
		peers := ""
		if fl, ok := f.get("idle.floor"); ok {
			peers = fmt.Sprintf("an idle floor %s CPU-s/h", num(fl))
		}
		if p, ok := f.get("idle.python"); ok {
			peers += fmt.Sprintf("; an idle python %s CPU-s/h", num(p))
		}
		rows = append(rows, goalRow{"idle CPU, server + watchdog on their defaults", fmt.Sprintf("%s CPU-s/h (server %s + watchdog %s)", num(c), num(s), num(wd)), peers, "≤ 0.3 CPU-s/h", met(c <= 0.3)})
	} else {
		rows = append(rows, notRun("idle CPU, server + watchdog on their defaults", "≤ 0.3 CPU-s/h", "idle"))
	}
	return rows
}

func writeGoals(w io.Writer, f *figures) {
	fmt.Fprintf(w, "## Performance goals\n\n")
	fmt.Fprintf(w, "Each figure against its peers measured in the same run, as the goal's ratio.\n\n")
	t := table{header: []string{"figure", "webui", "peers (same run)", "goal", "met?"}}
	for _, r := range goalRows(f) {
		t.add(r.figure, r.webui, r.peers, r.goal, r.met)
	}
	writeTable(w, t)
}
