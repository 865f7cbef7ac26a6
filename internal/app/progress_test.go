package app

import (
	"strings"
	"testing"
)

func TestProgressLine(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b}
	p.set(0, 4<<20)
	p.set(1<<20, 4<<20) // within 100 ms of the last draw: skipped
	p.set(4<<20, 4<<20) // the end is always drawn, and ends the line
	p.set(4<<20, 4<<20)
	p.stop()
	out := b.String()
	if strings.Count(out, "\r") != 2 || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "100% [========================] (4.0 MiB/4.0 MiB)\n") {
		t.Fatalf("%q", out)
	}
	b.Reset()
	p = &progress{w: &b}
	p.set(1, 0) // unknown size
	p.stop()    // a failure ends the line
	if out := b.String(); !strings.HasPrefix(out, "\rdownloading   0%") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("%q", out)
	}
}
