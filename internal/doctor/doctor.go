// Package doctor says what on this device will stop, kill or freeze webui,
// and the command or switch that fixes each thing (`webui doctor`, GET
// /api/doctor). Each check is a pure decision over inputs that Probes
// gather, so the decisions are table-tested and the probes can be faked.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Statuses of a check.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "fail"
)

// NotApplicable starts the summary of a check that has nothing to look at
// on this platform.
const NotApplicable = "not applicable here"

// Check is one finding. The JSON shape is pinned (README "Doctor").
type Check struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
	Fix     string `json:"fix"`
	Value   any    `json:"value,omitempty"`
}

// Report is `webui doctor --json`.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed reports whether any check failed (doctor then exits non-zero).
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Get returns the check with id (nil: none).
func (r Report) Get(id string) *Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// Run runs every check in order.
func Run(ctx context.Context, p *Probes) Report {
	p.defaults()
	checks := []func(context.Context, *Probes) Check{
		checkFreezes, checkPhantom, checkBoot, checkProcesses, checkServices,
		checkDNS, checkTLS, checkStorage, checkWatchdog, checkUpdate,
	}
	r := Report{Checks: make([]Check, 0, len(checks))}
	for _, c := range checks {
		r.Checks = append(r.Checks, c(ctx, p))
	}
	return r
}

// WriteText prints one line per check: status, id, summary and the fix.
func WriteText(w io.Writer, r Report) {
	for _, c := range r.Checks {
		line := fmt.Sprintf("%-4s  %-9s %s", c.Status, c.ID, c.Summary)
		if c.Fix != "" {
			line += " — fix: " + c.Fix
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
