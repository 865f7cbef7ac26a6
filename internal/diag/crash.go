package diag

import (
	"bufio"
	"os"
	"strings"
)

// crashSummary finds the panic or fatal error line and where it happened:
// the first frame outside the runtime of the goroutine that was running.
func crashSummary(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(&limited{f, 1 << 20})
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var head, loc, firstFunc string
	running := false
	for sc.Scan() && loc == "" {
		line := sc.Text()
		switch {
		case head == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")):
			head = line
		case strings.HasPrefix(line, "goroutine ") && strings.Contains(line, "[running]"):
			running = true
		case running && firstFunc == "" && line != "" && !strings.HasPrefix(line, "\t"):
			firstFunc = line
		case running && strings.HasPrefix(line, "\t") && strings.Contains(line, ".go:"):
			p := strings.TrimSpace(line)
			if i := strings.LastIndex(p, " +0x"); i > 0 {
				p = p[:i]
			}
			if !strings.Contains(p, "/src/runtime/") && !strings.Contains(p, "/src/internal/runtime/") && !strings.HasPrefix(p, "runtime/") && !strings.HasPrefix(p, "internal/runtime/") {
				loc = p
			}
		}
	}
	if head == "" {
		// A fatal error's header can miss the crash file; the faulting
		// frame still says what it was.
		switch {
		case strings.Contains(firstFunc, "maps.fatal") || strings.Contains(firstFunc, "mapaccess") || strings.Contains(firstFunc, "mapassign"):
			head = "fatal error: concurrent map access"
		case firstFunc != "":
			head = "fatal error in " + strings.TrimSpace(firstFunc[:max(0, strings.IndexByte(firstFunc, '('))])
		default:
			head = "crash output present (no panic line found)"
		}
	}
	if loc != "" {
		return head + " at " + loc
	}
	return head
}
