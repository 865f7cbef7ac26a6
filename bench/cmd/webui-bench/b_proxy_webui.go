package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// webuiFront is webui's release build hosting apps from apps.d.
type webuiFront struct {
	in   *inst
	srv  *child
	auth string // the owner's Authorization header
}

// startWebuiFront serves webui with the given app files (name → text) and
// waits until /health answers and every route in ready answers 200 as the
// owner.
func (bn *bench) startWebuiFront(dir string, files map[string]string, ready ...string) (*webuiFront, error) {
	in, err := newInst(bn.b.webui, dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(in.path("apps.d"), 0o700); err != nil {
		return nil, err
	}
	for name, text := range files {
		if err := os.WriteFile(in.path("apps.d/"+name+".conf"), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	srv, err := in.serve()
	if err != nil {
		return nil, err
	}
	f := &webuiFront{in: in, srv: srv}
	if _, err := waitHealth(in.addr, 15*time.Second, 10*time.Millisecond, nil); err != nil {
		f.stop()
		return nil, err
	}
	f.auth = authHeader(in.path("state"))
	for _, path := range ready {
		if err := waitOwner("http://"+in.addr+path, f.auth, 30*time.Second); err != nil {
			f.stop()
			return nil, err
		}
	}
	return f, nil
}

// stop is `webui ctl stop`: it stops webui and the apps it supervises (a
// bare SIGTERM would leave them running for the next webui to adopt).
func (f *webuiFront) stop() {
	args := append([]string{"ctl", "stop"}, f.in.settings()...)
	if c, err := spawn(f.in.bin, args, cleanEnv(f.in.dir), f.in.path("ctl-stop.txt")); err == nil {
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
		}
	}
	kids := children(f.srv.pid())
	f.srv.stop(syscall.SIGKILL, 5*time.Second)
	for _, k := range kids {
		stopPID(k, 5*time.Second)
	}
}

// waitOwner polls u, with auth as its Authorization ("" for none), until
// it answers 200.
func waitOwner(u, auth string, within time.Duration) error {
	end := time.Now().Add(within)
	for {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := probeClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: %v", u, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idleApps runs two webuis side by side, one supervising an idle process
// app (the floor, with a health path) and one with no apps, and samples
// each webui's own CPU time (not its children's) until stopped.
type idleApps struct {
	with, none *webuiFront
	mu         sync.Mutex
	cpu        [2]sample // CPU-s per hour per slice: with the app, with none
	quit, done chan struct{}
}

func (bn *bench) startIdleApps(dir string, slice time.Duration) (*idleApps, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	app := fmt.Sprintf("# an idle supervised app\ncommand = %s -addr 127.0.0.1:%d\nport = %d\nroute = /floor/\nhealth = /health\n", bn.b.floor, port, port)
	ia := &idleApps{quit: make(chan struct{}), done: make(chan struct{})}
	if ia.with, err = bn.startWebuiFront(filepath.Join(dir, "with-app"), map[string]string{"floor": app}, "/floor/health"); err != nil {
		return nil, err
	}
	if ia.none, err = bn.startWebuiFront(filepath.Join(dir, "no-app"), nil); err != nil {
		ia.with.stop()
		return nil, err
	}
	go ia.sample(slice)
	return ia, nil
}

func (ia *idleApps) sample(slice time.Duration) {
	defer close(ia.done)
	defer func() {
		if r := recover(); r != nil {
			progress("proxy: idle sampler: %v", r)
		}
	}()
	pids := [2]int{ia.with.srv.pid(), ia.none.srv.pid()}
	var last [2]int64
	for i, p := range pids {
		last[i] = readProc(p).runNs
	}
	t0 := time.Now()
	tick := time.NewTicker(slice)
	defer tick.Stop()
	for {
		select {
		case <-ia.quit:
			return
		case <-tick.C:
		}
		el := time.Since(t0)
		t0 = time.Now()
		ia.mu.Lock()
		for i, p := range pids {
			n := readProc(p).runNs
			ia.cpu[i] = append(ia.cpu[i], float64(n-last[i])/1e9*float64(time.Hour)/float64(el))
			last[i] = n
		}
		ia.mu.Unlock()
	}
}

// finish samples until at least minSlices slices are in, then stops both.
func (ia *idleApps) finish(minSlices int) (with, none sample) {
	for {
		ia.mu.Lock()
		n := len(ia.cpu[0])
		ia.mu.Unlock()
		if n >= minSlices {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(ia.quit)
	<-ia.done
	ia.with.stop()
	ia.none.stop()
	return ia.cpu[0], ia.cpu[1]
}

// webuiAppFiles are the app files that put webui in front of the floor and
// the SSE server: upstream apps, so that webui's figure is its front door
// alone, the floor being the same process for every path.
func webuiAppFiles(faddr, sseAddr string) map[string]string {
	return map[string]string{
		"app": "upstream = http://" + faddr + "\nroute = /app/\n",
		"sse": "upstream = http://" + sseAddr + "\nroute = /sse/\n",
	}
}

// hostOf is the host:port of a URL.
func hostOf(u string) string { return strings.Split(strings.TrimPrefix(u, "http://"), "/")[0] }

// cpuHour is a CPU-s/hour figure for the summary.
func cpuHour(v float64) string { return num(v) + " CPU-s/h" }
