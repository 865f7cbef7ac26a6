package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/logging"
	"github.com/termux-webui/webui/internal/restart"
)

// Recorder receives the lifecycle events that diagnostics keep.
type Recorder interface {
	Ready(addr string)
	Signal(sig syscall.Signal, action string)
	Exiting(reason diag.ExitReason, detail string, code int)
	ExitingSignal(sig syscall.Signal, intent string, code int)
}

type nopRecorder struct{}

func (nopRecorder) Ready(string)                              {}
func (nopRecorder) Signal(syscall.Signal, string)             {}
func (nopRecorder) Exiting(diag.ExitReason, string, int)      {}
func (nopRecorder) ExitingSignal(syscall.Signal, string, int) {}

// Restarter carries out a restart (internal/restart).
type Restarter interface {
	Restart(ctx context.Context, reason string, h restart.Handoff) (restart.Result, error)
}

// session is one http.Server serving one listener.
type session struct {
	srv  *http.Server
	ln   *Listener
	done chan error
}

// Run serves until SIGTERM or SIGINT (graceful: stop accepting, drain up to
// shutdown_timeout, exit 0), ctx ends, or serving fails. A second SIGINT
// during the drain forces the exit. SIGUSR2 and POST /api/restart restart
// through d.Restarter.
func Run(ctx context.Context, d Deps) error {
	cfg := d.Config
	rec := d.Recorder
	if rec == nil {
		rec = nopRecorder{}
	}
	lg := d.Log

	sigs := d.Signals
	if sigs == nil {
		sigs = make(chan os.Signal, 4)
		diag.NotifyStop(sigs)
	}
	defer signal.Stop(sigs)

	// Serve calls ListenEarly itself, to accept while it builds the rest;
	// other callers get the same path here.
	e := d.Early
	if e == nil {
		var err error
		if e, err = ListenEarly(cfg, d.Listener, lg); err != nil {
			rec.Exiting(diag.ReasonCannotListen, err.Error(), exitcode.Of(err))
			return err
		}
	}
	// Until it is taken over below, an error here must not leave it
	// accepting (Run's callers in tests carry on).
	defer func() {
		if e.gate.h == nil {
			e.Close()
		}
	}()
	if err := d.fill(); err != nil {
		err = exitcode.Newf(exitcode.Failure, "%v", err)
		rec.Exiting(diag.ReasonServeFailed, err.Error(), exitcode.Failure)
		return err
	}
	inflight := d.Inflight
	restarts := make(chan string, 1)
	requestRestart := func(reason string) bool {
		if d.Restarter == nil {
			return false
		}
		select {
		case restarts <- reason:
			return true
		default:
			return false // one is already pending
		}
	}
	ss, first := e.ss, e.first
	e.gate.open(newServer(d, serving{ln: ss.ln, restart: requestRestart}))
	// start serves again on a listener handed back by a failed restart.
	start := func(l net.Listener) *session {
		ln := NewListener(l, cfg.MaxConns)
		return newSession(cfg, ln, first.wrap(newServer(d, serving{ln: ln, restart: requestRestart})), lg)
	}
	addr := ss.ln.Addr().String()
	rec.Ready(addr)
	first.wait(announceWait)
	lg.WithField("addr", addr).WithField("pid", d.PID).WithField("version", d.Version).
		Infof("webui listening on http://%s", addr)
	lg.Flush() // whoever waits for the server reads this line
	if d.Ready != nil {
		d.Ready(addr)
	}

	// drain stops the current session, waiting for in-flight requests up
	// to shutdown_timeout and cutting what is left.
	drain := func(keep bool) (*os.File, error) {
		var f *os.File
		if keep {
			fl, ok := ss.ln.Listener.(interface{ File() (*os.File, error) })
			if !ok {
				return nil, fmt.Errorf("listener %T cannot be handed over", ss.ln.Listener)
			}
			var err error
			if f, err = fl.File(); err != nil {
				return nil, fmt.Errorf("dup listener: %w", err)
			}
		}
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		inflight.EndStreams()
		if err := drainSession(sctx, ss); err != nil {
			n := inflight.Count()
			_ = ss.srv.Close()
			lg.WithField("cut", n).Warnf("drain timed out after %s; closed %d unfinished requests", cfg.ShutdownTimeout, n)
		}
		return f, nil
	}
	handoff := restart.Handoff{
		Addr:  addr,
		Drain: drain,
		Resume: func(f *os.File) error {
			l, err := net.FileListener(f)
			f.Close()
			if err != nil {
				return err
			}
			ss = start(l)
			lg.Warn("restart failed: serving again on the same socket")
			return nil
		},
	}

	for {
		var reason diag.ExitReason
		var sig syscall.Signal
		select {
		case s := <-sigs:
			sig = s.(syscall.Signal)
			reason = diag.ExitReason(sigName(s))
			if sig == syscall.SIGUSR2 {
				if !requestRestart("SIGUSR2") {
					lg.Warn("SIGUSR2: restart not available or already pending")
				}
				continue
			}
			rec.Signal(sig, "graceful shutdown")
		case <-ctx.Done():
			reason = diag.ReasonContextDone
		case err := <-ss.done:
			err = fmt.Errorf("serving on %s stopped: %w", addr, err)
			lg.Error(err)
			rec.Exiting(diag.ReasonServeFailed, err.Error(), exitcode.Failure)
			return err
		case why := <-restarts:
			lg.WithField("reason", why).WithField("strategy", d.Restart.Strategy).Info("restarting")
			res, err := d.Restarter.Restart(ctx, why, handoff)
			if err != nil {
				lg.WithField("reason", why).Errorf("restart failed, still serving: %v", err)
				continue
			}
			if res.Exit {
				lg.WithField("detail", res.Detail).Info("webui stopped for restart")
				rec.Exiting(diag.ReasonRestart, res.Detail, res.Code)
				if res.Code != 0 {
					return exitcode.Newf(res.Code, "restart: %s", res.Detail)
				}
				return nil
			}
			continue
		}
		intent := ""
		if d.Intent != nil {
			intent = d.Intent()
		}
		lg.WithField("reason", reason).WithField("intent", intent).WithField("inflight", inflight.Count()).Info("shutting down: no new connections; draining requests")
		err := shutdown(ss, sigs, rec, lg, cfg.ShutdownTimeout, inflight, sig, reason, intent)
		if d.Stopped != nil {
			d.Stopped(sig, intent)
		}
		return err
	}
}

func shutdown(ss *session, sigs chan os.Signal, rec Recorder, lg *logging.Logger, timeout time.Duration, inflight *Inflight,
	sig syscall.Signal, reason diag.ExitReason, intent string) error {
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	drained := make(chan error, 1)
	inflight.EndStreams()
	diag.Go("http shutdown", func() { drained <- drainSession(sctx, ss) })
	for {
		select {
		case err := <-drained:
			if err != nil {
				n := inflight.Count()
				_ = ss.srv.Close()
				lg.WithField("cut", n).Warnf("drain timed out after %s; closed %d unfinished requests", timeout, n)
			}
			lg.WithField("reason", reason).Info("webui stopped")
			if sig != 0 {
				rec.ExitingSignal(sig, intent, exitcode.OK)
			} else {
				rec.Exiting(reason, "", exitcode.OK)
			}
			return nil
		case s := <-sigs:
			if s == os.Interrupt {
				_ = ss.srv.Close()
				lg.Warn("second SIGINT: exiting without waiting for requests")
				rec.ExitingSignal(syscall.SIGINT, "forced by a second SIGINT", exitcode.Forced)
				return exitcode.Newf(exitcode.Forced, "forced exit: second SIGINT during shutdown")
			}
		}
	}
}

// drainSession stops accepting, then lets every open connection finish its
// request and close, up to ctx. It does not use http.Server.Shutdown:
// Shutdown drops, unanswered, a request it reads from a connection accepted
// just before it began, which a restart under load would turn into failed
// requests. With keep-alives off, each connection closes after its current
// response; connections still in the kernel backlog wait there for the
// next image (restart) or are refused once the socket closes (stop).
func drainSession(ctx context.Context, ss *session) error {
	_ = ss.ln.Close()
	select {
	case <-ss.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	ss.srv.SetKeepAlivesEnabled(false) // also closes the idle ones now
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for ss.ln.Open() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	}
	return s.String()
}
