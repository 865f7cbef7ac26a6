package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// initCost runs a program runs times under GODEBUG=inittrace=1 and returns
// each package's median init time in ms, and the median total.
func initCost(bin string, args, env []string, runs int) (map[string]float64, float64) {
	per := map[string]sample{}
	var totals sample
	for i := 0; i < runs; i++ {
		c := exec.Command(bin, args...)
		c.Env = append(env, "GODEBUG=inittrace=1")
		var errb bytes.Buffer
		c.Stderr = &errb
		if c.Start() != nil {
			return nil, 0
		}
		time.Sleep(300 * time.Millisecond)
		_ = c.Process.Kill()
		_ = c.Wait()
		sc := bufio.NewScanner(&errb)
		total := 0.0
		for sc.Scan() {
			// init PKG @0.53 ms, 0.079 ms clock, 672 bytes, 8 allocs
			f := strings.Fields(sc.Text())
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			per[f[1]] = append(per[f[1]], v)
			total += v
		}
		totals = append(totals, total)
	}
	out := map[string]float64{}
	for k, s := range per {
		out[k] = s.median()
	}
	return out, totals.median()
}

// topInits is the n costliest package inits, as "pkg 1.23 ms".
func topInits(m map[string]float64, n int) string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
	var s []string
	for i := 0; i < n && i < len(l); i++ {
		s = append(s, fmt.Sprintf("`%s` %s ms", l[i].k, num(l[i].v)))
	}
	return strings.Join(s, ", ")
}
