package update

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/proc"
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
	Update(fields map[string]any)
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
	Strategy string
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
func (s *Service) record(fields map[string]any) {
	if s.o.Recorder != nil {
		s.o.Recorder.Update(fields)
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

// ServerInfo describes a running server that an apply from the CLI must
// restart.
type ServerInfo struct {
	PID        int
	HealthAddr string
	Strategy   string
	// Record is its lifetime record ("" unknown).
	Record string
	// Args are its arguments after the program name (from
	// /proc/<pid>/cmdline), to start the old version the same way.
	Args []string
}

// ApplyRequest says what to apply and how to restart afterwards.
type ApplyRequest struct {
	// Force: the caller checked for open streams (server) or does not care.
	Force          bool
	AllowDowngrade bool
	// From is an offline source: a manifest.json (its signature in Sig,
	// default From+".sig", artifacts beside it), or a .deb or binary with
	// its detached signature in Sig (default From+".sig").
	From, Sig string
	// Restart, in the server, asks its serve loop to restart. HealthAddr
	// is where it answers.
	Restart    func(reason string) bool
	HealthAddr string
	// Server, from the CLI, is a running server to restart with SIGUSR2
	// (nil: none runs; the next start runs the new version).
	Server *ServerInfo
	// Progress hears download progress.
	Progress func(n, total int64)
	// Confirm, when set, is asked before anything is downloaded.
	Confirm func(from, to string, size int64, notes string) bool
}

// Job is an apply that passed its checks and holds the lock.
type Job struct {
	s      *Service
	req    ApplyRequest
	lock   *Lock
	plan   installPlan
	from   string
	to     string
	art    Artifact // what to download (URL resolved), or the offline file
	staged string   // the artifact in staging, once there
	// verified: the staged file's bytes were checked against a detached
	// signature (offline artifact), so only the sha256 remains to record.
	verified bool
	notes    string

	mu     sync.Mutex
	status Status
}

// From and To are the versions the job updates between.
func (j *Job) From() string { return j.from }

// To is the version being installed.
func (j *Job) To() string { return j.to }

// Size is the artifact's size.
func (j *Job) Size() int64 { return j.art.Size }

// Method is how the job installs (swap or dpkg).
func (j *Job) Method() string { return j.plan.Method }

// Prepare does every check that can refuse an update before anything is
// downloaded: the lock (ErrBusy), the manifest and its signature, the
// artifact for this target, the version order, where it installs, and
// free space. The Job it returns holds the lock until Run ends.
func (s *Service) Prepare(ctx context.Context, req ApplyRequest) (_ *Job, err error) {
	if a := aptSource(s.exe); a != nil {
		return nil, errApt(a)
	}
	lock, err := TryLock(s.stateDir())
	if err != nil {
		return nil, err
	}
	j := &Job{s: s, req: req, lock: lock, from: s.o.Version}
	defer func() {
		if err != nil {
			if !errors.Is(err, errUpToDate) && !errors.Is(err, errDeclined) {
				s.recordRefusal(j, err)
			}
			_ = os.RemoveAll(stagingDir(s.stateDir())) // an offline artifact is staged early
			lock.Release()
		}
	}()
	// An earlier apply killed midway leaves files behind; we hold the
	// lock, so nobody else is using them.
	_ = os.RemoveAll(stagingDir(s.stateDir()))
	cleanTemps(s.exe)

	if j.plan, err = planInstall(s.exe); err != nil {
		return nil, err
	}
	switch {
	case req.From == "":
		err = j.fromManifest(ctx, s.o.Config.UpdateURL, "")
	case looksLikeManifest(req.From):
		err = j.fromManifest(ctx, req.From, req.Sig)
	default:
		err = j.fromArtifact(ctx, req.From, req.Sig)
	}
	if err != nil {
		return nil, err
	}
	switch c := CompareVersions(j.to, j.from); {
	case c == 0:
		return nil, &Error{Code: 409, Msg: fmt.Sprintf("already up to date: running %s", j.from), Err: errUpToDate}
	case c < 0 && !req.AllowDowngrade:
		return nil, errorf(409, "refusing to downgrade from %s to %s (allow it with --allow-downgrade, or {\"allow_downgrade\":true})", j.from, j.to)
	}
	if !j.verified {
		if err := checkSpace(Dir(s.stateDir()), j.art.Size, 2, "downloading and installing the update"); err != nil {
			return nil, err
		}
	}
	if err := checkSpace(filepath.Dir(j.plan.Exe), j.art.Size, 1, "installing "+j.plan.Exe); err != nil {
		return nil, err
	}
	if req.Confirm != nil && !req.Confirm(j.from, j.to, j.art.Size, j.notes) {
		return nil, errDeclined
	}
	j.status = Status{State: StateDownloading, From: j.from, To: j.to, Method: j.plan.Method,
		Progress: Progress{Total: j.art.Size}, Message: fmt.Sprintf("downloading %s for %s", j.to, s.o.Target)}
	if j.verified {
		j.status.State, j.status.Message = StateVerifying, "verifying "+filepath.Base(req.From)
		j.status.Progress.Bytes = j.art.Size
	}
	s.mu.Lock()
	st := j.status
	s.active = &st
	s.mu.Unlock()
	j.persist()
	s.logf("update %s → %s: %s (%s, %d bytes)", j.from, j.to, j.plan.Method, j.art.URL, j.art.Size)
	s.record(map[string]any{"step": "started", "from": j.from, "to": j.to, "method": j.plan.Method, "url": j.art.URL, "size": j.art.Size})
	return j, nil
}

var (
	errUpToDate = errors.New("up to date")
	errDeclined = errors.New("update declined")
)

// IsDeclined reports whether the user said no at the Confirm prompt.
func IsDeclined(err error) bool { return errors.Is(err, errDeclined) }

// IsUpToDate reports whether Prepare found nothing newer.
func IsUpToDate(err error) bool { return errors.Is(err, errUpToDate) }

// recordRefusal notes an apply that was refused after taking the lock.
func (s *Service) recordRefusal(j *Job, err error) {
	s.record(map[string]any{"step": "refused", "from": j.from, "to": j.to, "error": err.Error()})
	s.warnf("update refused: %v", err)
	st := Status{State: StateFailed, From: j.from, To: j.to, Method: j.plan.Method, Message: "update refused: " + err.Error()}
	_ = WriteStatus(s.stateDir(), st)
}

func looksLikeManifest(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return strings.HasSuffix(path, ".json")
	}
	defer f.Close()
	b := make([]byte, 64)
	n, _ := f.Read(b)
	return strings.HasPrefix(strings.TrimSpace(string(b[:n])), "{")
}

// fromManifest picks the artifact of this target and install method.
func (j *Job) fromManifest(ctx context.Context, src, sig string) error {
	m, base, err := j.s.loadManifest(ctx, src, sig)
	if err != nil {
		return err
	}
	j.to, j.notes = m.Version, m.Notes
	a, ok := m.Find(j.s.o.Target, j.plan.Kind)
	if !ok {
		why := ""
		if j.plan.Method == MethodDpkg {
			why = " (dpkg owns " + j.plan.Exe + ", so it is updated with a .deb)"
		}
		return errorf(422, "release %s has no %s artifact for %s%s", m.Version, j.plan.Kind, j.s.o.Target, why)
	}
	if a.URL, err = ResolveURL(base, a.URL); err != nil {
		return &Error{Code: 502, Err: err}
	}
	if !strings.HasPrefix(base, "file:") && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
		return errorf(502, "release %s: artifact url %s is not http(s); only a local manifest (--from) may name local files", m.Version, a.URL)
	}
	j.art = a
	return nil
}

// fromArtifact takes a local .deb or binary whose detached signature
// (base64 ed25519 over the file's bytes, as `webui release sign` writes)
// is in sig. The file is copied into staging and verified there, so what
// is verified is what gets installed.
func (j *Job) fromArtifact(ctx context.Context, file, sig string) error {
	s := j.s
	if s.kerr != nil {
		return &Error{Code: 500, Err: s.kerr}
	}
	if len(s.keys) == 0 {
		return &Error{Code: 500, Err: ErrNoKeys}
	}
	if sig == "" {
		sig = file + ".sig"
	}
	st, err := os.Stat(file)
	if err != nil {
		return errorf(400, "--from: %v", err)
	}
	if st.Size() <= 0 || st.Size() > MaxArtifactSize {
		return errorf(400, "--from %s: size %d is not between 1 and %d bytes", file, st.Size(), MaxArtifactSize)
	}
	sigBytes, err := os.ReadFile(sig)
	if err != nil {
		return errorf(400, "--sig: %v (the detached signature: base64 ed25519 over the file's bytes, from `webui release sign`)", err)
	}
	if err := checkSpace(Dir(s.stateDir()), st.Size(), 2, "staging and installing the update"); err != nil {
		return err
	}
	staged, err := j.stagePath(filepath.Base(file))
	if err != nil {
		return err
	}
	if err := copyFile(file, staged); err != nil {
		return fmt.Errorf("stage %s: %w", file, err)
	}
	data, err := os.ReadFile(staged)
	if err != nil {
		return err
	}
	if _, err := Verify(s.keys, data, sigBytes); err != nil {
		return &Error{Code: 400, Msg: file + " rejected", Err: err}
	}
	sum := sha256.Sum256(data)
	j.art = Artifact{Target: s.o.Target, URL: (&url.URL{Scheme: "file", Path: mustAbs(file)}).String(), Size: st.Size(), SHA256: hex.EncodeToString(sum[:])}
	j.staged, j.verified = staged, true
	if isDeb(staged) {
		j.art.Kind = KindDeb
		d, err := readDebControl(staged)
		if err != nil {
			return errorf(400, "%s: %v", file, err)
		}
		if d.Package != "webui" {
			return errorf(400, "%s is the package %q, not webui", file, d.Package)
		}
		if t := DebArchTarget[d.Architecture]; t != s.o.Target {
			return errorf(400, "%s is built for %s (Architecture %s); this installation needs %s", file, orUnknown(t), d.Architecture, s.o.Target)
		}
		j.to = d.Version
	} else {
		j.art.Kind = KindBinary
		if a := elfArch(staged); a != runtime.GOARCH {
			return errorf(400, "%s is not a %s binary (it is %s)", file, runtime.GOARCH, orUnknown(a))
		}
		if j.to, err = binaryVersion(ctx, staged); err != nil {
			return errorf(400, "%s: %v", file, err)
		}
	}
	if j.art.Kind != j.plan.Kind {
		return errorf(400, "this installation is updated with a %s (%s), and %s is a %s", j.plan.Kind, j.plan.Method, file, j.art.Kind)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown target"
	}
	return s
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// binaryVersion runs a (verified) binary's `version` command.
func binaryVersion(ctx context.Context, path string) (string, error) {
	if err := os.Chmod(path, 0o700); err != nil {
		return "", err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan []byte, 1)
	diag.Go("update: read version", func() {
		b, _ := io.ReadAll(io.LimitReader(r, 4096))
		done <- b
	})
	ws, err := proc.Run(ctx, path, []string{path, "version"}, proc.Attr{Stdout: w})
	w.Close()
	out := <-done
	r.Close()
	if err != nil || ws.ExitStatus() != 0 {
		return "", fmt.Errorf("`version` did not run (%v, exit %d): is it a webui binary?", err, ws.ExitStatus())
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || f[0] != "webui" {
		return "", fmt.Errorf("`version` printed %q: not a webui binary", strings.TrimSpace(string(out)))
	}
	return f[1], nil
}

// stagePath makes the staging dir and names a file in it.
func (j *Job) stagePath(base string) (string, error) {
	dir := stagingDir(j.s.stateDir())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("staging dir: %w", err)
	}
	if base == "" || base == "." || base == "/" {
		base = "artifact"
	}
	return filepath.Join(dir, base), nil
}

// set moves the job to a state, persisted.
func (j *Job) set(state, msg string) {
	j.mu.Lock()
	j.status.State, j.status.Message = state, msg
	j.status.UpdatedAt = time.Now().UTC()
	j.mu.Unlock()
	j.persist()
}

func (j *Job) persist() {
	j.mu.Lock()
	st := j.status
	j.mu.Unlock()
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = time.Now().UTC()
	}
	j.s.mu.Lock()
	if j.s.active != nil {
		*j.s.active = st
	}
	j.s.mu.Unlock()
	if err := WriteStatus(j.s.stateDir(), st); err != nil {
		j.s.warnf("update status: %v", err)
	}
}

func (j *Job) progress(n int64) {
	j.mu.Lock()
	j.status.Progress.Bytes = n
	st := j.status
	j.mu.Unlock()
	j.s.mu.Lock()
	if j.s.active != nil {
		*j.s.active = st
	}
	j.s.mu.Unlock()
	if j.req.Progress != nil {
		j.req.Progress(n, j.art.Size)
	}
}

// Run carries the update through download, verification, installation
// and the restart. An error leaves the old binary in place (restored if
// it had been replaced) and the status "failed". After the restart is
// asked for, the confirmation helper owns the outcome.
func (j *Job) Run(ctx context.Context) (err error) {
	s := j.s
	defer j.lock.Release()
	defer func() {
		s.mu.Lock()
		s.active = nil
		s.mu.Unlock()
	}()
	installed := false
	var prev string
	fail := func(step string, e error) error {
		msg := fmt.Sprintf("update to %s failed while %s: %v", j.to, step, e)
		if installed {
			if rerr := j.undoInstall(ctx, prev); rerr != nil {
				msg += "; restoring the previous binary failed too: " + rerr.Error()
			} else {
				msg += "; the previous binary was restored"
			}
		} else {
			msg += "; nothing was changed"
		}
		// The record first: whoever sees the status can find the evidence.
		s.record(map[string]any{"step": "failed", "from": j.from, "to": j.to, "while": step, "error": e.Error()})
		s.warnf("%s", msg)
		j.mu.Lock()
		j.status.State, j.status.Message, j.status.UpdatedAt = StateFailed, msg, time.Now().UTC()
		j.mu.Unlock()
		j.persist()
		_ = os.RemoveAll(stagingDir(s.stateDir()))
		return errors.New(msg)
	}

	if !j.verified {
		if err := j.download(ctx); err != nil {
			return fail("downloading", err)
		}
		pause(PauseVerify)
		j.set(StateVerifying, "verifying "+filepath.Base(j.staged))
	}
	if err := j.verify(); err != nil {
		return fail("verifying", err)
	}

	j.set(StateInstalling, fmt.Sprintf("installing %s (%s)", j.to, j.plan.Method))
	if prev, err = j.install(ctx); err != nil {
		return fail("installing", err)
	}
	installed = true
	s.record(map[string]any{"step": "installed", "from": j.from, "to": j.to, "method": j.plan.Method, "prev": prev})

	restartable := j.req.Restart != nil || j.req.Server != nil
	if !restartable {
		msg := fmt.Sprintf("updated %s → %s; no server was running: the next start runs %s", j.from, j.to, j.to)
		j.finishNoRestart(msg)
		return nil
	}
	p, err := j.pending(prev)
	if err != nil {
		return fail("preparing the restart", err)
	}
	pause(PauseRestart)
	j.set(StateRestarting, fmt.Sprintf("restarting into %s", j.to))
	s.record(map[string]any{"step": "restarting", "from": j.from, "to": j.to, "strategy": p.Strategy, "deadline": p.Deadline})
	helper, err := j.spawnConfirm(p)
	if err != nil {
		_ = os.Remove(PendingFile(s.stateDir()))
		return fail("starting the confirmation helper", err)
	}
	reason := fmt.Sprintf("update %s → %s", j.from, j.to)
	if err := j.restart(reason); err != nil {
		_ = syscall.Kill(helper, syscall.SIGKILL)
		_ = os.Remove(PendingFile(s.stateDir()))
		return fail("restarting", err)
	}
	s.logf("update %s → %s installed; restarting (helper pid %d confirms)", j.from, j.to, helper)
	return nil
}

// download fetches the artifact into staging.
func (j *Job) download(ctx context.Context) error {
	name := fmt.Sprintf("webui-%s-%s.%s", j.to, j.s.o.Target, j.art.Kind)
	staged, err := j.stagePath(name)
	if err != nil {
		return err
	}
	part := staged + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = j.s.fetch.download(ctx, j.art.URL, f, j.art.Size, StallTimeout, DownloadTimeout, j.progress)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, staged)
	}
	if err != nil {
		_ = os.Remove(part)
		return err
	}
	j.staged = staged
	return nil
}

// verify checks the staged file's size and sha256 against the (signed)
// manifest, and a .deb's control data against the release.
func (j *Job) verify() error {
	f, err := os.Open(j.staged)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	if n != j.art.Size {
		return fmt.Errorf("size %d, the manifest says %d", n, j.art.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, j.art.SHA256) {
		return fmt.Errorf("sha256 mismatch: got %s, the signed manifest says %s (the file was tampered with or damaged)", got, strings.ToLower(j.art.SHA256))
	}
	if j.art.Kind == KindDeb {
		d, err := readDebControl(j.staged)
		if err != nil {
			return err
		}
		if d.Package != "webui" || CompareVersions(d.Version, j.to) != 0 {
			return fmt.Errorf("the .deb is %s %s, the manifest says webui %s", d.Package, d.Version, j.to)
		}
	}
	return nil
}

// install puts the staged artifact in place and returns the .prev path.
func (j *Job) install(ctx context.Context) (string, error) {
	if j.plan.Method == MethodSwap {
		return swapBinary(j.plan.Exe, j.staged)
	}
	prev, err := keepPrev(j.plan.Exe)
	if err != nil {
		return "", err
	}
	j.rotateDebCache()
	pause(PauseInstall)
	logPath := filepath.Join(stagingDir(j.s.stateDir()), "dpkg.log")
	if err := dpkgInstall(ctx, j.plan.Dpkg, j.staged, logPath); err != nil {
		// dpkg may have replaced the binary before failing.
		if rerr := restorePrev(j.plan.Exe, prev); rerr != nil {
			return "", fmt.Errorf("%v; restoring the previous binary failed too: %v", err, rerr)
		}
		return "", fmt.Errorf("%v (the previous binary was restored; `dpkg --audit` shows dpkg's view)", err)
	}
	return prev, nil
}

// undoInstall reverses install after a later step failed.
func (j *Job) undoInstall(ctx context.Context, prev string) error {
	if j.plan.Method == MethodDpkg {
		if deb := j.cachedDeb("prev", j.from); deb != "" {
			if err := dpkgInstall(ctx, j.plan.Dpkg, deb, filepath.Join(Dir(j.s.stateDir()), "dpkg-rollback.log")); err == nil {
				_ = os.Remove(prev)
				return nil
			}
		}
	}
	return restorePrev(j.plan.Exe, prev)
}

// finishNoRestart ends an update that nothing needs to restart for.
func (j *Job) finishNoRestart(msg string) {
	if j.plan.Method == MethodDpkg {
		cacheDeb(j.s.stateDir(), j.staged, j.to)
	}
	_ = os.RemoveAll(stagingDir(j.s.stateDir()))
	j.s.record(map[string]any{"step": "updated", "from": j.from, "to": j.to, "method": j.plan.Method, "restart": false})
	j.s.logf("%s", msg)
	j.mu.Lock()
	j.status.State, j.status.Message, j.status.UpdatedAt = StateDone, msg, time.Now().UTC()
	j.mu.Unlock()
	j.persist()
}

// restart asks the server to restart: through its serve loop when this
// is the server, else with SIGUSR2.
func (j *Job) restart(reason string) error {
	if j.req.Restart != nil {
		if !j.req.Restart(reason) {
			return errors.New("the server refused the restart (one is already pending, or restarts are unavailable)")
		}
		return nil
	}
	if err := syscall.Kill(j.req.Server.PID, syscall.SIGUSR2); err != nil {
		return fmt.Errorf("signal the server (pid %d): %w", j.req.Server.PID, err)
	}
	return nil
}

// Apply runs an update for the server: it prepares synchronously (so a
// refusal is the API's answer), then runs the rest in the background.
func (s *Service) Apply(ctx context.Context, req ApplyRequest) (Status, error) {
	j, err := s.Prepare(ctx, req)
	if err != nil {
		return Status{}, err
	}
	diag.Go("update apply", func() { _ = j.Run(context.Background()) })
	return s.Status(), nil
}
