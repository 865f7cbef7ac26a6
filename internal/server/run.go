package server

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gorilla/mux"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/logging"
)

// Recorder receives the lifecycle events that diagnostics keep.
type Recorder interface {
	Ready(addr string)
	Signal(sig syscall.Signal, action string)
	Exiting(reason, detail string, code int)
	ExitingSignal(sig syscall.Signal, intent string, code int)
}

// Options are what `webui serve` runs with.
type Options struct {
	Config   *config.Config
	Log      *logging.Logger
	Version  string
	Started  time.Time
	Platform map[string]any
	Restart  RestartInfo
	Recorder Recorder
	Inflight *Inflight
	// Intent, when set, says why a SIGTERM came (ctl stop, restart, update)
	// if someone announced it.
	Intent func() string
	// Listener, when set, is an already listening socket (handed over by
	// the previous process image); otherwise Run listens on Config.Addr.
	Listener net.Listener
	Diagnose func(id string) (any, error)
	Extra    func(*mux.Router)
}

type nopRecorder struct{}

func (nopRecorder) Ready(string)                              {}
func (nopRecorder) Signal(syscall.Signal, string)             {}
func (nopRecorder) Exiting(string, string, int)               {}
func (nopRecorder) ExitingSignal(syscall.Signal, string, int) {}

// Listen opens the listening socket, with a one-line error that says what to
// do when the port is taken.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	var se *os.SyscallError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, syscall.EADDRINUSE):
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: address already in use (is webui already running? `webui ctl status`; or choose another port with --addr)", addr)
	case errors.As(err, &se) && errors.Is(se.Err, syscall.EACCES):
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: permission denied (ports below 1024 need privileges; use a port such as 8787)", addr)
	default:
		return nil, exitcode.Newf(exitcode.Listen, "cannot listen on %s: %v", addr, err)
	}
}

// Run serves until SIGTERM or SIGINT (graceful: stop accepting, drain up to
// shutdown_timeout, exit 0), ctx ends, or serving fails. A second SIGINT
// during the drain forces the exit.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	rec := o.Recorder
	if rec == nil {
		rec = nopRecorder{}
	}
	lg := o.Log

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	raw := o.Listener
	if raw == nil {
		var err error
		if raw, err = Listen(cfg.Addr); err != nil {
			rec.Exiting("cannot listen", err.Error(), exitcode.Of(err))
			return err
		}
	}
	ln := NewListener(raw, cfg.MaxConns)
	inflight := o.Inflight
	if inflight == nil {
		inflight = NewInflight()
	}
	handler := NewServer(Deps{
		Config:   cfg,
		Log:      lg,
		Version:  o.Version,
		PID:      os.Getpid(),
		Started:  o.Started,
		Listener: ln,
		Inflight: inflight,
		Platform: o.Platform,
		Restart:  o.Restart,
		Diagnose: o.Diagnose,
		Extra:    o.Extra,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTime,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          log.New(lg.ErrorLogWriter("http"), "", 0),
	}
	serveErr := make(chan error, 1)
	diag.Go("http serve", func() { serveErr <- srv.Serve(ln) })

	addr := ln.Addr().String()
	rec.Ready(addr)
	lg.WithField("addr", addr).WithField("pid", os.Getpid()).WithField("version", o.Version).
		Infof("webui listening on http://%s", addr)

	var reason string
	var sig syscall.Signal
	select {
	case s := <-sigs:
		sig = s.(syscall.Signal)
		reason = sigName(s)
		rec.Signal(sig, "graceful shutdown")
	case <-ctx.Done():
		reason = "context done"
	case err := <-serveErr:
		err = fmt.Errorf("serving on %s stopped: %w", addr, err)
		lg.Error(err)
		rec.Exiting("serve failed", err.Error(), exitcode.Failure)
		return err
	}
	intent := ""
	if o.Intent != nil {
		intent = o.Intent()
	}
	lg.WithField("reason", reason).WithField("intent", intent).WithField("inflight", inflight.Count()).Info("shutting down: no new connections; draining requests")

	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	drained := make(chan error, 1)
	diag.Go("http shutdown", func() { drained <- srv.Shutdown(sctx) })
	for {
		select {
		case err := <-drained:
			if err != nil {
				n := inflight.Count()
				_ = srv.Close()
				lg.WithField("cut", n).Warnf("drain timed out after %s; closed %d unfinished requests", cfg.ShutdownTimeout, n)
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
				_ = srv.Close()
				lg.Warn("second SIGINT: exiting without waiting for requests")
				rec.ExitingSignal(syscall.SIGINT, "forced by a second SIGINT", exitcode.Forced)
				return exitcode.Newf(exitcode.Forced, "forced exit: second SIGINT during shutdown")
			}
		}
	}
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}
