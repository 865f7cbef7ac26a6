// Running an update job: download, verify, install, restart, and its status.

package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/paths"
)

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
		s.record(diag.Event{Step: "failed", From: j.from, To: j.to, While: step, Error: e.Error()})
		s.warnf("%s", msg)
		j.mu.Lock()
		j.status.State, j.status.Message, j.status.UpdatedAt = StateFailed, msg, time.Now().UTC()
		j.mu.Unlock()
		j.persist()
		_ = os.RemoveAll(paths.State(s.stateDir()).Updates().Staging())
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
	s.record(diag.Event{Step: "installed", From: j.from, To: j.to, Method: j.plan.Method, Prev: prev})

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
	s.record(diag.Event{Step: "restarting", From: j.from, To: j.to, Strategy: p.Strategy, Deadline: p.Deadline})
	helper, err := j.spawnConfirm(p)
	if err != nil {
		_ = os.Remove(paths.State(s.stateDir()).Updates().Pending())
		return fail("starting the confirmation helper", err)
	}
	reason := fmt.Sprintf("update %s → %s", j.from, j.to)
	if err := j.restart(reason); err != nil {
		_ = syscall.Kill(helper, syscall.SIGKILL)
		_ = os.Remove(paths.State(s.stateDir()).Updates().Pending())
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
	logPath := paths.State(j.s.stateDir()).Updates().DpkgLog()
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
		if deb := cachedDeb(paths.State(j.s.stateDir()).Updates().PrevDeb(), j.from); deb != "" {
			if err := dpkgInstall(ctx, j.plan.Dpkg, deb, paths.State(j.s.stateDir()).Updates().DpkgRollbackLog()); err == nil {
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
	_ = os.RemoveAll(paths.State(j.s.stateDir()).Updates().Staging())
	j.s.record(diag.Event{Step: "updated", From: j.from, To: j.to, Method: j.plan.Method, Restart: new(false)})
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
