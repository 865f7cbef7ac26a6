package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// procStat is what /proc says about one process.
type procStat struct {
	rssKiB     int64
	cpuTicks   int64 // utime + stime, all threads
	ctxSwitch  int64 // voluntary + nonvoluntary, summed over the threads
	runNs      int64 // time on a CPU from /proc/PID/task/*/schedstat, summed over the threads (ns, exact)
	threads    int
	readFailed bool
}

func readProc(pid int) procStat {
	var ps procStat
	base := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(base + "/stat")
	if err != nil {
		ps.readFailed = true
		return ps
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) > 12 {
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ps.cpuTicks = u + st
	}
	if b, err := os.ReadFile(base + "/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "VmRSS" {
				ps.rssKiB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			}
		}
	}
	tasks, _ := os.ReadDir(base + "/task")
	ps.threads = len(tasks)
	for _, t := range tasks {
		if b, err := os.ReadFile(base + "/task/" + t.Name() + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				ps.runNs += n
			}
		}
		b, err := os.ReadFile(base + "/task/" + t.Name() + "/status")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				ps.ctxSwitch += n
			}
		}
	}
	return ps
}
