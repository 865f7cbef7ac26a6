// Preparing an update: what to apply, from where, and the checks before anything is downloaded.

package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// ServerInfo describes a running server that an apply from the CLI must
// restart.
type ServerInfo struct {
	PID        int
	HealthAddr health.Addr
	Strategy   health.Strategy
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
			_ = os.RemoveAll(paths.State(s.stateDir()).Updates().Staging()) // an offline artifact is staged early
			lock.Release()
		}
	}()
	// An earlier apply killed midway leaves files behind; we hold the
	// lock, so nobody else is using them.
	_ = os.RemoveAll(paths.State(s.stateDir()).Updates().Staging())
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
		if err := checkSpace(string(paths.State(s.stateDir()).Updates()), j.art.Size, 2, "downloading and installing the update"); err != nil {
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
	s.record(diag.Event{Step: "started", From: j.from, To: j.to, Method: j.plan.Method, URL: j.art.URL, Size: j.art.Size})
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
	s.record(diag.Event{Step: "refused", From: j.from, To: j.to, Error: err.Error()})
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
	if err := checkSpace(string(paths.State(s.stateDir()).Updates()), st.Size(), 2, "staging and installing the update"); err != nil {
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
	dir := paths.State(j.s.stateDir()).Updates().Staging()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("staging dir: %w", err)
	}
	if base == "" || base == "." || base == "/" {
		base = "artifact"
	}
	return filepath.Join(dir, base), nil
}
