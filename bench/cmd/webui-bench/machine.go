package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// machine describes where and when the run happened.
type machine struct {
	date, cpu, kernel, goVersion, commit, took string
	cores                                      int
	loadStart, loadEnd, loadMax                [3]float64
	mu                                         sync.Mutex
}

func readMachine(root string) *machine {
	m := &machine{cores: runtime.NumCPU(), cpu: "unknown CPU", date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.kernel = "Linux " + cstr(u.Release[:])
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.goVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	m.commit = "unknown commit"
	if out, err := gitOut(root, "describe", "--tags", "--always", "--dirty"); err == nil {
		m.commit = out
		if out, err := gitOut(root, "log", "-1", "--format=%h %s"); err == nil {
			m.commit += " (" + out + ")"
		}
	}
	m.loadStart = loadavg()
	m.loadMax = m.loadStart
	return m
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func gitOut(dir string, args ...string) (string, error) {
	c := exec.Command("git", args...)
	c.Dir = dir
	out, err := c.Output()
	return strings.TrimSpace(string(out)), err
}

func loadavg() [3]float64 {
	var l [3]float64
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// watchLoad samples the load average until ctx ends.
func (m *machine) watchLoad(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l := loadavg()
			m.mu.Lock()
			for i := range l {
				m.loadMax[i] = max(m.loadMax[i], l[i])
			}
			m.mu.Unlock()
		}
	}
}

func (m *machine) loadNote() string {
	f := func(l [3]float64) string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }
	return fmt.Sprintf("at start %s, at end %s, highest 1-min sample %.2f (1, 5, 15 min; %d cores)", f(m.loadStart), f(m.loadEnd), m.loadMax[0], m.cores)
}

// busy: was other work running? The run itself keeps about one core busy
// at times, so more than that in the 5-minute average at the start, or a
// start above half a core, says others were at work.
func (m *machine) busy() bool { return m.loadStart[0] > 0.5 || m.loadStart[1] > 0.5 }
