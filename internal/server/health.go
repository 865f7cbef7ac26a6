package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
)

// deepDoc is /health?deep=1: the document, and the newest freeze as diag
// records it (health, a leaf, cannot name diag's type).
type deepDoc struct {
	health.Doc
	// LastFreeze is the newest freeze or sleep this server lived through.
	LastFreeze *diag.Freeze `json:"last_freeze,omitempty"`
}

// uptimeMark stands in for uptime_s in the pre-encoded /health document.
const uptimeMark = 987654321.125

// healthDoc is the part of /health that never changes.
func healthDoc(d Deps) health.Doc {
	h := health.Doc{Status: "ok", Version: d.Version, PID: d.PID, StartedAt: d.Started.UTC(), Restart: d.Restart}
	if d.Report != nil {
		h.Platform = d.Report.Summary()
	}
	return h
}

// jsonType and noStore are shared header values, full so that an Add
// elsewhere copies rather than writes into them; Set would make both
// afresh on every probe.
var (
	jsonType = []string{"application/json; charset=utf-8"}[:1:1]
	noStore  = []string{"no-store"}[:1:1]
	bodies   = sync.Pool{New: func() any { return new([]byte) }}
)

// handleHealth answers /health: doc with the uptime since started (a
// monotonic time), and with ?deep=1 the deep checks.
func handleHealth(doc health.Doc, started time.Time, cfg *config.Config, ln *Listener, inflight *Inflight, lastFreeze func() *diag.Freeze) http.Handler {
	// Only uptime_s changes between two shallow /health answers, and the
	// watchdog asks every few seconds: encode the rest once.
	static := doc
	static.UptimeS = uptimeMark
	mark := []byte(strconv.FormatFloat(uptimeMark, 'f', -1, 64))
	head, tail, _ := bytes.Cut(health.AppendIndented(nil, static), mark)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			h := w.Header()
			h["Content-Type"], h["Cache-Control"] = jsonType, noStore
			// A pooled body: Write copies it into net/http's buffer.
			bp := bodies.Get().(*[]byte)
			body := append((*bp)[:0], head...)
			body = strconv.AppendFloat(body, float64(time.Since(started).Milliseconds())/1000, 'f', -1, 64)
			body = append(body, tail...)
			_, _ = w.Write(body)
			*bp = body
			bodies.Put(bp)
			return
		}
		h := deepDoc{Doc: doc}
		h.UptimeS = float64(time.Since(started).Milliseconds()) / 1000
		code := http.StatusOK
		if r.URL.Query().Get("deep") == "1" {
			h.Checks = deepChecks(cfg, ln)
			for _, c := range h.Checks {
				if !c.OK {
					h.Status, code = "degraded", http.StatusServiceUnavailable
				}
			}
			h.Goroutines = runtime.NumGoroutine()
			h.OpenFDs = diag.OpenFDs()
			h.Inflight = inflight.Count() - 1 // not counting this request
			if lastFreeze != nil {
				h.LastFreeze = lastFreeze()
			}
		}
		writeJSON(w, code, h)
	})
}

func deepChecks(cfg *config.Config, ln *Listener) map[string]health.Check {
	checks := map[string]health.Check{}
	dir := cfg.StateDir
	if f, err := os.CreateTemp(dir, ".health-*"); err != nil {
		checks["state_dir"] = health.Check{Detail: fmt.Sprintf("%s is not writable: %v", dir, err)}
	} else {
		_, werr := f.Write([]byte("ok"))
		cerr := f.Close()
		_ = os.Remove(f.Name())
		if werr == nil {
			werr = cerr
		}
		if werr != nil {
			checks["state_dir"] = health.Check{Detail: fmt.Sprintf("%s: write failed: %v", dir, werr)}
		} else {
			checks["state_dir"] = health.Check{OK: true, Detail: dir + " is writable"}
		}
	}

	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		checks["disk"] = health.Check{Detail: fmt.Sprintf("statfs %s: %v", dir, err)}
	} else {
		free := int64(st.Bavail) * int64(st.Bsize)
		floor := cfg.MinFreeMB << 20
		checks["disk"] = health.Check{
			OK:     free >= floor,
			Detail: fmt.Sprintf("%d MiB free, floor %d MiB", free>>20, cfg.MinFreeMB),
			Data:   map[string]int64{"free_bytes": free, "floor_bytes": floor},
		}
	}

	if ln != nil {
		s := ln.Status(cfg.StallAfter)
		c := health.Check{OK: !s.Stalled, Data: s}
		if s.Stalled {
			c.Detail = fmt.Sprintf("accept loop stuck in %s for %.1fs (threshold %s)", s.State, s.ForS, cfg.StallAfter)
		} else {
			c.Detail = fmt.Sprintf("accept loop %s, %d/%d connections", s.State, s.Open, s.Max)
		}
		checks["accept_loop"] = c
	}
	return checks
}
