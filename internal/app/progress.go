package app

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws `webui update apply`'s download bar on one terminal line,
// at most every 100 ms, and ends the line when the download completes.
// (A progress bar module cost every start of the server its package
// initialisation: three regexps and its tables, before main.)
type progress struct {
	w     io.Writer
	last  time.Time
	drawn bool
	done  bool
}

const progressWidth = 24

func (p *progress) set(n, total int64) {
	if p.done {
		return
	}
	end := total > 0 && n >= total
	now := time.Now()
	if !end && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	fill, pct := 0, 0
	if total > 0 {
		fill, pct = int(min(n, total)*progressWidth/total), int(min(n, total)*100/total)
	}
	p.drawn = true
	fmt.Fprintf(p.w, "\rdownloading %3d%% [%s%s] (%s/%s)", pct, strings.Repeat("=", fill), strings.Repeat(" ", progressWidth-fill),
		mib(n), mib(total))
	if end {
		p.done = true
		fmt.Fprintln(p.w)
	}
}

// stop ends a bar that a failure interrupted.
func (p *progress) stop() {
	if p.drawn && !p.done {
		p.done = true
		fmt.Fprintln(p.w)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
