package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var aptOnce struct {
	sync.Mutex
	updated bool
}

// ensureTool finds a program, installing its Debian package with apt-get
// when it is missing and we are root.
func ensureTool(name, pkg string, paths ...string) (string, error) {
	find := func() string {
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p
			}
		}
		if len(paths) == 0 {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%s is missing and installing it needs root: run `apt-get install -y %s` as root", name, pkg)
	}
	aptOnce.Lock()
	defer aptOnce.Unlock()
	if !aptOnce.updated {
		progress("installing %s: apt-get update", pkg)
		if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %v\n%s", err, out)
		}
		aptOnce.updated = true
	}
	progress("installing %s: apt-get install -y %s", name, pkg)
	c := exec.Command("apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg)
	c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get install %s: %v\n%s", pkg, err, out)
	}
	if p := find(); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%s still missing after installing %s", name, pkg)
}

var progressStart = time.Now()

func progress(format string, a ...any) {
	el := time.Since(progressStart).Round(time.Second)
	fmt.Fprintf(os.Stderr, "[%5s] %s\n", el, fmt.Sprintf(format, a...))
}

// ports hands out loopback ports below the ephemeral range, so no client
// socket of the load generators can sit on one.
var ports = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	for range 2000 {
		p := 20000 + rand.IntN(12000)
		if ports.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		ports.used[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port")
}

func freeAddr() (string, error) {
	p, err := freePort()
	return "127.0.0.1:" + strconv.Itoa(p), err
}

// killUnder SIGKILLs every process whose executable lies under dir: the
// servers, helpers and watchdogs the benchmarks started (and the ones those
// started) run copies of the binaries from there.
func killUnder(dir string) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.TrimSuffix(exe, " (deleted)"), dir+"/") {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}

// waitFileContains polls path until it contains sub.
func waitFileContains(path, sub string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(sub)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q within %s", path, sub, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
