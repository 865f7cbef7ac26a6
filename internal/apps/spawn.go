package apps

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/logfile"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// instance is one process of an app, spawned or adopted.
type instance struct {
	spec    Spec
	hash    string // the spec it was started with
	pid     int
	ticks   uint64
	port    int
	started time.Time
	child   bool // we are its parent: wait4 gives the exit status

	died      chan exitInfo // the death watch's one report
	ready     chan error    // readiness: nil, or it timed out
	unhealthy chan struct{} // the liveness poll gave up on it
	ctx       context.Context
	cancel    context.CancelFunc
	readyAt   time.Time

	reason string           // why webui ends it ("" while nobody asked)
	then   string           // what follows its exit: an op, or "" for the policy
	killC  <-chan time.Time // the stop timeout, then SIGKILL
}

type exitInfo struct {
	ws *syscall.WaitStatus // nil when we are not its parent
	at time.Time
}

// spawn starts spec's process: its own session, fds 1 and 2 on its log
// file, fd 3 the app's lock (held exclusively for the process's life: the
// death watch waits on it), cwd its dir, its env plus PORT.
func (a *app) spawn(spec Spec, prevPort int) (*instance, error) {
	s := a.s
	lock, err := s.lockApp(spec.Name)
	if err != nil {
		return nil, err
	}
	defer lock.Close() // the child keeps its own copy, and with it the lock
	logf, err := s.openLog(spec.Name)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	defer logf.Close()
	_ = logfile.CopyTruncate(s.LogFile(spec.Name), s.cfg.LogMaxBytes, s.cfg.LogKeep)

	port := spec.Port
	if port == 0 {
		if port, err = freePort(prevPort); err != nil {
			return nil, fmt.Errorf("port = auto: %w", err)
		}
	}
	dir := s.expandHome(spec.Dir)
	if dir == "" {
		dir = s.cfg.Home
	}
	env := appEnv(os.Environ(), spec.Env, port)
	path, err := resolve(spec.Command[0], dir, env)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "--- webui: starting %s on port %d at %s: %s\n", spec.Name, port, time.Now().Format(time.RFC3339), JoinCommand(spec.Command))
	pid, err := proc.Spawn(path, spec.Command, proc.Attr{Dir: dir, Env: env, Stdout: logf, Stderr: logf,
		ExtraFiles: []*os.File{lock}, Setsid: true})
	if err != nil {
		return nil, err
	}
	ticks, _ := proc.StartTicks(pid)
	inst := &instance{spec: spec, hash: specHash(spec), pid: pid, ticks: ticks, port: port, started: time.Now(), child: true}
	a.watch(inst)
	return inst, nil
}

// adopt takes over a process a previous webui started, if the record names
// one that still runs and holds the app's lock.
func (a *app) adopt(spec Spec, rec record) *instance {
	if rec.PID <= 0 || !proc.SameProcess(rec.PID, rec.StartTicks) || !lockHeld(a.s.lockFile(spec.Name)) {
		return nil
	}
	inst := &instance{spec: spec, hash: rec.Hash, pid: rec.PID, ticks: rec.StartTicks, port: rec.Port,
		started: rec.Started, child: parentOf(rec.PID) == os.Getpid()}
	a.watch(inst)
	return inst
}

// watch starts the instance's death watch and readiness probe.
func (a *app) watch(inst *instance) {
	inst.died = make(chan exitInfo, 1)
	inst.ready = make(chan error, 1)
	inst.unhealthy = make(chan struct{}, 1)
	inst.ctx, inst.cancel = context.WithCancel(context.Background())
	lockPath := a.s.lockFile(inst.spec.Name)
	log := a.s.log.WithField("app", inst.spec.Name)
	diag.Go("app death watch "+inst.spec.Name, func() {
		waitUnlocked(lockPath)
		// An exiting process drops its fds a moment before it is a zombie.
		for i := 0; i < 200 && proc.SameProcess(inst.pid, inst.ticks); i++ {
			time.Sleep(time.Millisecond)
		}
		if proc.SameProcess(inst.pid, inst.ticks) {
			// It closed the fd it inherited, lock and all: fall back to a
			// slow poll for this process only.
			log.WithField("pid", inst.pid).Warn("the app closed its inherited lock fd (3); its death is noticed by a 2 s poll")
			for proc.SameProcess(inst.pid, inst.ticks) {
				time.Sleep(2 * time.Second)
			}
		}
		ex := exitInfo{at: time.Now()}
		if inst.child {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if ws, err := proc.Wait(ctx, inst.pid); err == nil {
				ex.ws = &ws
			}
			cancel()
		}
		inst.died <- ex
	})
	timeout, health := a.s.cfg.StartTimeout, inst.spec.Health
	diag.Go("app readiness "+inst.spec.Name, func() {
		deadline := time.Now().Add(timeout)
		delay := 20 * time.Millisecond
		for {
			if probe(inst.ctx, inst.port, health) == nil {
				inst.ready <- nil
				return
			}
			if inst.ctx.Err() != nil {
				return
			}
			if time.Now().After(deadline) {
				inst.ready <- fmt.Errorf("not ready after %s", timeout)
				return
			}
			if schedule.Sleep(inst.ctx, delay) != nil {
				return
			}
			delay = min(delay*2, 500*time.Millisecond)
		}
	})
}

// liveness polls health every interval while the instance runs; n
// failures in a row report it unhealthy. No health path, no poll.
func (a *app) liveness(inst *instance) {
	if inst.spec.Health == "" {
		return
	}
	every, n := a.s.cfg.HealthInterval, a.s.cfg.HealthFailures
	diag.Go("app liveness "+inst.spec.Name, func() {
		t := time.NewTicker(every)
		defer t.Stop()
		fails := 0
		for {
			select {
			case <-inst.ctx.Done():
				return
			case <-t.C:
			}
			if probe(inst.ctx, inst.port, inst.spec.Health) == nil {
				fails = 0
				continue
			}
			if fails++; fails >= n {
				inst.unhealthy <- struct{}{}
				return
			}
		}
	})
}

var probeClient = &http.Client{
	Timeout:       3 * time.Second,
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// probe: with a health path, a GET that answers 200; else a TCP connect.
func probe(ctx context.Context, port int, health string) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if health == "" {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+health, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "webui-health")
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health %s: %s", health, resp.Status)
	}
	return nil
}

// freePort picks a free loopback port, the previous one if it still is.
func freePort(prev int) (int, error) {
	if prev > 0 {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(prev)); err == nil {
			l.Close()
			return prev, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// appEnv is webui's environment without what is webui's own (its WEBUI_*
// settings, the socket handoff's LISTEN_*, systemd's NOTIFY_SOCKET), then
// the app's env lines, then PORT. A later value for a key replaces the
// earlier.
func appEnv(base, own []string, port int) []string {
	var out []string
	idx := map[string]int{}
	put := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			return
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WEBUI_") || strings.HasPrefix(k, "LISTEN_") || k == "NOTIFY_SOCKET" {
			continue
		}
		put(kv)
	}
	for _, kv := range own {
		put(kv)
	}
	put("PORT=" + strconv.Itoa(port))
	return out
}

// resolve finds the program: a bare name in the app's PATH, a relative
// path against its dir.
func resolve(name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return proc.LookPath(name)
	}
	pathVar := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, d := range filepath.SplitList(pathVar) {
		if p, err := proc.LookPath(filepath.Join(d, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

func (s *Supervisor) expandHome(p string) string { return ExpandHome(s.cfg.Home, p) }

// ExpandHome is p with a leading ~ meaning home ("" = $HOME), as app files
// write dir and root.
func ExpandHome(home, p string) string {
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}
