package update

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
)

// Pause points: a webuitest build can stop an apply at each one
// (WEBUI_TEST_UPDATE_PAUSE, see testhook_on.go) so tests can kill it there.
const (
	PauseDownload = "download" // after the first chunk arrived
	PauseVerify   = "verify"   // downloaded, not yet verified
	PauseInstall  = "install"  // new binary written beside the old, .prev kept, not yet renamed
	PauseRestart  = "restart"  // installed, pending.json written, restart not yet asked
)

// pause is a no-op outside webuitest builds.
var pause = func(step string) {}

// Logger is what the service logs through.
type Logger interface {
	Infof(format string, a ...any)
	Warnf(format string, a ...any)
}

// Recorder receives "update" events for this process's lifetime record.
type Recorder interface {
	Update(ev diag.Event)
	Path() string
}

// Options configure a Service.
type Options struct {
	Config  *config.Config
	Version string // the running version
	// Exe is the installed binary; "" means os.Executable().
	Exe string
	// Target is the release target; "" detects it.
	Target   string
	Log      Logger
	Recorder Recorder
	// Client talks to the feed; nil builds one with NewHTTPClient.
	Client *http.Client
	// Strategy, Android: how the server restarts (the confirmation's
	// bound and the rollback depend on it).
	Strategy health.Strategy
	Android  bool
	// CheckTimeout bounds fetching a manifest and its signature.
	CheckTimeout time.Duration
}

// Service checks for and applies updates for one installation.
type Service struct {
	o     Options
	exe   string
	keys  []ed25519.PublicKey
	kerr  error
	fetch *fetcher

	mu     sync.Mutex
	cached *CheckResult
	active *Status // set while this process runs an apply
}

// New makes a Service. Problems with keys or the client surface when an
// update is checked or applied, not here: a server must start regardless.
func New(o Options) (*Service, error) {
	s := &Service{o: o, exe: o.Exe}
	if s.exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own binary: %w", err)
		}
		s.exe = exe
	}
	if real, err := filepath.EvalSymlinks(s.exe); err == nil {
		s.exe = real
	}
	if s.o.Target == "" {
		s.o.Target, _ = DetectTarget(s.exe)
	}
	if s.o.CheckTimeout <= 0 {
		s.o.CheckTimeout = ManifestTimeout
	}
	s.keys, s.kerr = TrustedKeys(o.Config.UpdateKeys)
	s.fetch = &fetcher{client: o.Client, newClient: sync.OnceValues(func() (*http.Client, error) {
		return NewHTTPClient(ClientOptions{})
	})}
	return s, nil
}

func (s *Service) stateDir() string { return s.o.Config.StateDir }

func (s *Service) logf(format string, a ...any) {
	if s.o.Log != nil {
		s.o.Log.Infof(format, a...)
	}
}

func (s *Service) warnf(format string, a ...any) {
	if s.o.Log != nil {
		s.o.Log.Warnf(format, a...)
	}
}

// record writes an "update" event to this process's lifetime record.
func (s *Service) record(ev diag.Event) {
	if s.o.Recorder != nil {
		s.o.Recorder.Update(ev)
	}
}

// CheckResult answers "is there a newer version?".
type CheckResult struct {
	Current   string    `json:"current"`
	Latest    string    `json:"latest,omitempty"`
	Available bool      `json:"available"`
	Notes     string    `json:"notes,omitempty"`
	Published string    `json:"published,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Target    string    `json:"target"`
	CheckedAt time.Time `json:"checked_at"`
	Error     string    `json:"error,omitempty"`
	// Cached: this answer is from an earlier check (see CheckCacheTTL).
	Cached bool `json:"cached,omitempty"`
	// Apt: apt updates this installation (webui-repo); the feed is not
	// asked and Message says which command to run.
	Apt     *AptSource `json:"apt,omitempty"`
	Message string     `json:"message,omitempty"`
}

// CheckCacheTTL is how long a check's answer is reused.
const CheckCacheTTL = 10 * time.Minute

// Check asks the feed whether a newer version exists, reusing an answer
// younger than CheckCacheTTL unless force.
func (s *Service) Check(ctx context.Context, force bool) CheckResult {
	if a := aptSource(s.exe); a != nil {
		return CheckResult{Current: s.o.Version, Target: s.o.Target, CheckedAt: time.Now().UTC(), Channel: s.o.Config.UpdateChannel,
			Apt: a, Message: a.message()}
	}
	s.mu.Lock()
	if c := s.cached; c != nil && !force && time.Since(c.CheckedAt) < CheckCacheTTL {
		res := *c
		s.mu.Unlock()
		res.Cached = true
		return res
	}
	s.mu.Unlock()
	res := s.checkNow(ctx)
	s.mu.Lock()
	s.cached = &res
	s.mu.Unlock()
	if err := writeLastCheck(s.stateDir(), res); err != nil {
		s.warnf("update check: cannot keep its answer for `webui doctor`: %v", err)
	}
	return res
}

func (s *Service) checkNow(ctx context.Context) CheckResult {
	res := CheckResult{Current: s.o.Version, Target: s.o.Target, CheckedAt: time.Now().UTC(), Channel: s.o.Config.UpdateChannel}
	m, _, err := s.loadManifest(ctx, s.o.Config.UpdateURL, "")
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Latest, res.Notes, res.Published = m.Version, m.Notes, m.Published
	if CompareVersions(m.Version, s.o.Version) <= 0 {
		return res
	}
	kinds := []string{KindBinary, KindDeb}
	if plan, err := planInstall(s.exe); err == nil {
		kinds = []string{plan.Kind} // what this installation can apply
	}
	for _, k := range kinds {
		if _, ok := m.Find(s.o.Target, k); ok {
			res.Available = true
			return res
		}
	}
	res.Error = fmt.Sprintf("release %s has no %s artifact for this target (%s)", m.Version, strings.Join(kinds, " or "), s.o.Target)
	return res
}

// loadManifest fetches a manifest and its signature (sigSrc "" means
// src + ".sig"), verifies the signature over the exact bytes, and parses
// and validates it. src is a URL or a local path. It returns the manifest
// and the URL relative artifact urls resolve against.
func (s *Service) loadManifest(ctx context.Context, src, sigSrc string) (*Manifest, string, error) {
	if s.kerr != nil {
		return nil, "", &Error{Code: 500, Err: s.kerr}
	}
	if len(s.keys) == 0 {
		return nil, "", &Error{Code: 500, Err: ErrNoKeys}
	}
	base, err := sourceURL(src)
	if err != nil {
		return nil, "", err
	}
	sigURL := ""
	if sigSrc != "" {
		if sigURL, err = sourceURL(sigSrc); err != nil {
			return nil, "", err
		}
	} else {
		u, _ := url.Parse(base)
		u.Path += ".sig"
		if u.RawPath != "" {
			u.RawPath += ".sig"
		}
		sigURL = u.String()
	}
	raw, err := s.fetch.get(ctx, base, maxManifestSize, s.o.CheckTimeout)
	if err != nil {
		return nil, "", &Error{Code: 502, Msg: "fetch the release manifest", Err: err}
	}
	sig, err := s.fetch.get(ctx, sigURL, 4096, s.o.CheckTimeout)
	if err != nil {
		return nil, "", &Error{Code: 502, Msg: "fetch the manifest's signature", Err: err}
	}
	if _, err := Verify(s.keys, raw, sig); err != nil {
		return nil, "", &Error{Code: 502, Msg: "manifest " + base + " rejected", Err: err}
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, "", &Error{Code: 502, Err: err}
	}
	if err := m.CheckChannel(s.o.Config.UpdateChannel); err != nil {
		return nil, "", &Error{Code: 502, Err: err}
	}
	return m, base, nil
}

// sourceURL turns a URL or a local path into a URL.
func sourceURL(src string) (string, error) {
	if u, err := url.Parse(src); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return u.String(), nil
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// Status is the update status: this process's apply while one runs here,
// else what status.json says (a helper or another process may write it).
func (s *Service) Status() Status {
	s.mu.Lock()
	if s.active != nil {
		st := *s.active
		s.mu.Unlock()
		return st
	}
	s.mu.Unlock()
	st, _ := ReadStatus(s.stateDir())
	return st
}
