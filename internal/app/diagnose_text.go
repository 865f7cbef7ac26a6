package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/diag"
)

// Line is a lifetime in one line: start, pid, version, how long it lived,
// verdict and summary.
func Line(lt diag.Lifetime) string {
	v := lt.Version
	if v == "" {
		v = "?"
	}
	lived := lt.Lived // "≥ 3m0s" when the end was not recorded
	if lived == "" {
		lived = fmtDur(lt.LivedS)
	}
	s := fmt.Sprintf("%s  pid %-7d %-10s lived %-9s %-24s %s", lt.StartedAt.Local().Format("2006-01-02 15:04:05"), lt.PID, v,
		lived, lt.Verdict, lt.Summary)
	if lt.Panics > 0 {
		s += fmt.Sprintf(" [%d recovered panics]", lt.Panics)
	}
	if n := len(lt.Freezes); n > 0 {
		longest := 0.0
		for _, f := range lt.Freezes {
			longest = max(longest, f.DurationS)
		}
		s += fmt.Sprintf(" [frozen or asleep %d×, longest %s]", n, diag.SpanWords(longest))
	}
	if lt.Hint != "" {
		s += " — hint: " + lt.Hint
	}
	return s
}

func fmtDur(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

func printDetail(w io.Writer, lt *diag.Lifetime, android bool) {
	fmt.Fprintln(w, Line(*lt))
	fmt.Fprintf(w, "id:       %s\n", lt.ID)
	if lt.Record != "" {
		fmt.Fprintf(w, "record:   %s\n", lt.Record)
	}
	if lt.CrashFile != "" {
		fmt.Fprintf(w, "crash:    %s\n", lt.CrashFile)
	}
	fmt.Fprintf(w, "evidence: %s\n", strings.Join(lt.Evidence, "; "))
	if len(lt.Freezes) > 0 {
		fmt.Fprintln(w, "freezes:")
		for _, f := range lt.Freezes {
			fmt.Fprintf(w, "  %-6s %s  %6.1fs  %s\n", f.Kind, f.At.Local().Format("2006-01-02 15:04:05"), f.DurationS, diag.FreezeWords(f, android))
		}
	}
	fmt.Fprintln(w, "events:")
	for _, raw := range lt.Events {
		var ev map[string]any
		_ = json.Unmarshal(raw, &ev)
		stacks, _ := ev["stacks"].(string)
		stack, _ := ev["stack"].(string)
		delete(ev, "stacks")
		delete(ev, "stack")
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "  %s\n", b)
		for _, st := range []string{stacks, stack} {
			if st != "" {
				fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(strings.TrimSpace(st), "\n", "\n    "))
			}
		}
	}
	if lt.Crash != "" {
		fmt.Fprintf(w, "crash output:\n%s\n", lt.Crash)
	}
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// lifetimes are the lifetime records of a state dir, as the server's
// GET /api/diag and evidence bundle read them.
type lifetimes struct {
	stateDir string
	opts     diag.LoadOptions
}

func (l lifetimes) List() ([]diag.Lifetime, error) { return diag.Load(l.stateDir, l.opts) }
func (l lifetimes) Find(id string) (*diag.Lifetime, error) {
	return diag.Find(l.stateDir, id, l.opts)
}
