package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/server"
)

// appsNotRunning is the exit code of an app command that needs the server
// when none runs: the same as `webui ctl status` for a stopped server.
const appsNotRunning = ctl.StatusStopped

// errNotRunning: no webui holds the pid file, or none answers at its
// address.
var errNotRunning = errors.New("webui is not running")

// appsAPITimeout bounds one API call: the server itself waits up to 10 s
// for its supervisor to start.
const appsAPITimeout = 20 * time.Second

// appsClient talks to the running server's /api/apps as the owner.
type appsClient struct {
	base  string // http://HOST:PORT
	token string
	http  *http.Client
}

// appsServer finds the running server the settings name: errNotRunning
// when there is none.
func appsServer(cfg *config.Config) (*appsClient, error) {
	inst, err := ctl.NewInstance(cfg, "", nil, false)
	if err != nil {
		return nil, err
	}
	pid, ok := inst.Running()
	if !ok {
		return nil, errNotRunning
	}
	addr := inst.HealthAddr(pid)
	if addr.IsZero() {
		if a, err := health.ParseAddr(cfg.Addr); err == nil {
			addr = a.Dialable()
		}
	}
	tok, err := auth.LoadOrCreateToken(paths.State(cfg.StateDir).Token())
	if err != nil {
		return nil, tokenError(cfg, err)
	}
	return &appsClient{base: addr.URL(""), token: tok, http: &http.Client{Timeout: appsAPITimeout}}, nil
}

// callServer makes one call to the running server (see appsClient.do).
func callServer(ctx context.Context, cfg *config.Config, method, path string, out any) error {
	c, err := appsServer(cfg)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, out)
}

// apiError is an answer that is not 2xx: the server's {"error"} message.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// do sends one request and decodes a 2xx JSON answer into out (nil: drop
// it). A refused connection is errNotRunning: the pid file's holder is
// not (or no longer) listening there.
func (c *appsClient) do(ctx context.Context, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, appsAPITimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if method != http.MethodGet {
		var csrf struct {
			Token string `json:"token"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/csrf", &csrf); err != nil {
			return err
		}
		req.Header.Set(server.CSRFHeader, csrf.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && strings.Contains(err.Error(), "connection refused") {
			return errNotRunning
		}
		return fmt.Errorf("webui at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("webui at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &apiError{status: resp.StatusCode, msg: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
		return fmt.Errorf("webui at %s: %s %s: bad answer: %w", c.base, method, path, err)
	}
	return nil
}

// appsCallError turns an API failure into the command's error: an
// unknown app is a usage error, no server the "not running" code.
func appsCallError(err error) error {
	var ae *apiError
	switch {
	case errors.Is(err, errNotRunning):
		return exitcode.New(appsNotRunning, err)
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return exitcode.New(exitcode.Usage, err)
	case errors.As(err, &ae) && (ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden):
		return exitcode.Newf(exitcode.Failure, "webui refused the owner's token (%v): run this as the account webui runs as", err)
	}
	return exitcode.New(exitcode.Failure, err)
}
