package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// sample is a set of measurements of one quantity.
type sample []float64

func durs(ds []time.Duration) sample {
	s := make(sample, len(ds))
	for i, d := range ds {
		s[i] = float64(d) / float64(time.Millisecond)
	}
	return s
}

// q is the p-quantile (nearest rank on the sorted values), NaN when empty.
func (s sample) q(p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[int(p*float64(len(c)-1)+0.5)]
}

func (s sample) median() float64 { return s.q(0.5) }
func (s sample) min() float64    { return s.q(0) }
func (s sample) max() float64    { return s.q(1) }

// num formats a figure with about three significant digits.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// spread is "p25–p75 (min–max)" in unit.
func (s sample) spread(unit string) string {
	if len(s) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s–%s (min–max %s–%s)%s", num(s.q(0.25)), num(s.q(0.75)), num(s.min()), num(s.max()), unit)
}

// med is the median with its unit.
func (s sample) med(unit string) string { return num(s.median()) + unit }

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func pct(n, d int) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d (%.0f%%)", n, d, 100*float64(n)/float64(d))
}
