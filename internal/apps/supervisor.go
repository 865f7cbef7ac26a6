package apps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/logfile"
)

// Config says where the supervisor keeps its files and how it paces.
// Zero durations and counts take the defaults named beside them.
type Config struct {
	StateDir string // lifetimes: <state>/lifetimes/apps/NAME.jsonl
	RunDir   string // <run>/apps/NAME.lock and NAME.json (the adoption record)
	LogDir   string // <log>/apps/NAME.log (+ .1, .2, ...)
	Log      logrus.FieldLogger
	Home     string // the default working dir and what ~ means; "" = $HOME

	// Android: a restart waits at least RestartDelay after the app's
	// exit (the kill window hits any new process in the cgroup), and a
	// SIGKILL within RestartDelay of a start is judged the kill window.
	Android      bool
	RestartDelay time.Duration

	StartTimeout   time.Duration // 30s: starting → restarted if not ready by then
	HealthInterval time.Duration // 10s: the liveness poll of `health`, while running
	HealthFailures int           // 3 failed polls in a row restart it
	StableAfter    time.Duration // 60s of running resets the backoff
	BackoffBase    time.Duration // 1s, doubling per failure in a row
	BackoffMax     time.Duration // 5m
	MaxFailures    int           // 10 failures in a row: failed (the policy gives up); <0 never
	LogMaxBytes    int64         // DefaultLogMaxBytes: rotate past this
	LogKeep        int           // DefaultLogKeep old files
	RotateEvery    time.Duration // 1m: how often log sizes are checked
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StartTimeout, 30*time.Second)
	def(&c.HealthInterval, 10*time.Second)
	def(&c.StableAfter, 60*time.Second)
	def(&c.BackoffBase, time.Second)
	def(&c.BackoffMax, 5*time.Minute)
	def(&c.RotateEvery, time.Minute)
	if c.HealthFailures <= 0 {
		c.HealthFailures = 3
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 10
	}
	if c.LogMaxBytes <= 0 {
		c.LogMaxBytes = DefaultLogMaxBytes
	}
	if c.LogKeep <= 0 {
		c.LogKeep = DefaultLogKeep
	}
	if c.Home == "" {
		c.Home, _ = os.UserHomeDir()
	}
	if c.Log == nil {
		c.Log = logrus.StandardLogger()
	}
}

// Supervisor keeps the process apps alive and knows the state of every app.
type Supervisor struct {
	cfg  Config
	log  logrus.FieldLogger
	mu   sync.Mutex
	apps map[string]*app
	quit chan struct{}
	wg   sync.WaitGroup
}

// ErrNoApp is the answer for a name no app file declares.
var ErrNoApp = errors.New("no such app")

// New supervises specs (from LoadDir; errs are the broken files, shown as
// failed apps). A process app whose earlier process still runs (recorded in
// the run dir, same pid and start time) is adopted, not started again, even
// if its spec changed since: Reload restarts it then. One the user stopped
// stays stopped.
func New(cfg Config, specs []Spec, errs []*FileError) *Supervisor {
	cfg.defaults()
	s := &Supervisor{cfg: cfg, log: cfg.Log.WithField("component", "apps"), apps: map[string]*app{}, quit: make(chan struct{})}
	s.Reload(specs, errs)
	s.wg.Add(1)
	diag.Go("apps log rotation", func() {
		defer s.wg.Done()
		s.rotateLoop()
	})
	return s
}

func (s *Supervisor) app(name string) (*app, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[name]
	return a, ok
}

// List is every app's status, by name.
func (s *Supervisor) List() []Status {
	s.mu.Lock()
	out := make([]Status, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a.snapshot())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Status is one app's status.
func (s *Supervisor) Status(name string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[name]
	if !ok {
		return Status{}, false
	}
	return a.snapshot(), true
}

// Spec is the spec an app runs with (the last one that loaded).
func (s *Supervisor) Spec(name string) (Spec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[name]
	if !ok || a.broken != nil && a.spec.Kind == "" {
		return Spec{}, false
	}
	return a.spec, true
}

// Specs are the specs of the apps that loaded, by name (the route table).
func (s *Supervisor) Specs() []Spec {
	s.mu.Lock()
	var out []Spec
	for _, a := range s.apps {
		if a.spec.Kind != "" {
			out = append(out, a.spec)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Start starts a stopped or failed app (a no-op for one that runs) and
// returns once its process is spawned; Wait tells when it is ready.
func (s *Supervisor) Start(name string) error { return s.command(name, opStart) }

// Stop stops the app (its stop signal, then SIGKILL after its stop
// timeout) and returns once it is gone. It stays stopped, also across
// webui restarts, until Start.
func (s *Supervisor) Stop(name string) error { return s.command(name, opStop) }

// Restart stops the app and starts it again (on Android, restart_delay
// after the exit). It returns once the restart is under way (a stopped
// app: once spawned); Wait tells when it is back.
func (s *Supervisor) Restart(name string) error { return s.command(name, opRestart) }

func (s *Supervisor) command(name string, op string) error {
	a, ok := s.app(name)
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoApp, name)
	}
	return a.send(command{op: op})
}

// Wait blocks until the app is running or ctx ends, and returns its
// status. A running process app counts as running only if its port
// accepts a connection: a request that got a refused connection right
// after the app died (before its death was handled) waits for the
// restart. That costs a loopback connect: call Wait when Status is not
// running, or a dial failed. A stopped or failed app
// returns at once with an error: nothing would make it run.
func (s *Supervisor) Wait(ctx context.Context, name string) (Status, error) {
	for {
		s.mu.Lock()
		a, ok := s.apps[name]
		if !ok {
			s.mu.Unlock()
			return Status{}, fmt.Errorf("%w: %q", ErrNoApp, name)
		}
		st, changed := a.snapshot(), a.changed
		s.mu.Unlock()
		switch st.State {
		case StateRunning:
			if st.Kind != Process || probe(ctx, st.Port, "") == nil {
				return st, nil
			}
			// Refused: dying (its death not handled yet), or it closed
			// its listener. Wait for news, and look again meanwhile.
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-changed:
			case <-time.After(50 * time.Millisecond):
			}
			continue
		case StateStopped, StateFailed:
			return st, fmt.Errorf("app %s is %s", name, st.State)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-changed:
		}
	}
}

// Addr is where the app answers: "127.0.0.1:PORT" for a process app (its
// port resolved, also for port = auto), the upstream's "HOST:PORT" or
// "unix:/path" for a proxy app, "" for a static app or a process app with
// no process.
func (s *Supervisor) Addr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[name]
	if !ok {
		return ""
	}
	switch a.spec.Kind {
	case Process:
		if a.st.Port > 0 {
			return "127.0.0.1:" + strconv.Itoa(a.st.Port)
		}
	case Proxy:
		if u, err := url.Parse(a.spec.Upstream); err == nil && u.Scheme == "http" {
			return u.Host
		}
		return a.spec.Upstream
	}
	return ""
}

// Reload applies a new LoadDir result: new apps start, removed ones stop,
// changed ones (a different spec than their process runs with) restart; it
// returns once each app has taken its change in (not when restarts end). An
// app whose file broke keeps its process on the old spec and shows the
// error; one that never loaded is failed with it.
func (s *Supervisor) Reload(specs []Spec, errs []*FileError) {
	type post struct {
		a *app
		c command
	}
	var posts []post
	s.mu.Lock()
	seen := map[string]bool{}
	for _, sp := range specs {
		seen[sp.Name] = true
		if a, ok := s.apps[sp.Name]; ok {
			posts = append(posts, post{a, command{op: opReload, spec: sp}})
			continue
		}
		posts = append(posts, post{s.addApp(sp, nil), command{op: opInit}})
	}
	for _, fe := range errs {
		name := Name(fe.File)
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(fe.File), ".conf")
		}
		seen[name] = true
		if a, ok := s.apps[name]; ok {
			posts = append(posts, post{a, command{op: opBroken, broken: fe}})
			continue
		}
		posts = append(posts, post{s.addApp(Spec{Name: name, File: fe.File}, fe), command{op: opInit}})
	}
	for name, a := range s.apps {
		if !seen[name] {
			delete(s.apps, name) // gone from the list at once; its keeper stops it
			posts = append(posts, post{a, command{op: opRemove}})
		}
	}
	s.mu.Unlock()
	for _, p := range posts {
		if p.c.op == opRemove {
			_ = p.a.post(p.c) // its stop may take the stop timeout: not waited for
			continue
		}
		_ = p.a.send(p.c) // handled (a restart begun) when Reload returns
	}
}

// StopAll stops every app's process and waits for them (webui's shutdown
// for good, as `ctl stop`; not for a restart, which must leave them be).
// It does not mark them stopped: the next webui starts them again.
func (s *Supervisor) StopAll(ctx context.Context) error {
	s.mu.Lock()
	var all []*app
	for _, a := range s.apps {
		all = append(all, a)
	}
	s.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, a := range all {
		wg.Add(1)
		diag.Go("apps stop all", func() {
			defer wg.Done()
			if err := a.sendCtx(ctx, command{op: opShutdown}); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close ends supervision and leaves the apps' processes running, for a
// webui that exits to be replaced: the next one adopts them. A watcher
// blocked in flock on a live app stays blocked until that app ends (the
// kernel offers no way to cancel it); it then does nothing.
func (s *Supervisor) Close() {
	s.mu.Lock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Supervisor) rotateLoop() {
	t := time.NewTicker(s.cfg.RotateEvery)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.rotateAll()
	}
}

func (s *Supervisor) rotateAll() {
	s.mu.Lock()
	var names []string
	for name, a := range s.apps {
		if a.spec.Kind == Process {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	for _, n := range names {
		if err := logfile.CopyTruncate(s.LogFile(n), s.cfg.LogMaxBytes, s.cfg.LogKeep); err != nil {
			s.log.WithError(err).WithField("app", n).Warn("app log rotation")
		}
	}
}
