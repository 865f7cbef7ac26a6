package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/platform"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/update"
)

// Proc is one process of this user, as /proc shows it.
type Proc struct {
	PID, PPID int
	Comm      string
	Args      []string
}

// Probes are everything the checks read. Nil fields get the live probe;
// tests replace what they need.
type Probes struct {
	Config   *config.Config
	Platform platform.Report
	Getenv   func(string) string
	Now      func() time.Time
	// Offline skips every network step (dns lookup).
	Offline bool
	// Command runs a short-lived command (getprop, settings) found in PATH
	// through internal/proc and returns its trimmed stdout.
	Command   func(ctx context.Context, name string, args ...string) (string, error)
	Lifetimes func() ([]diag.Lifetime, error)
	// Procs lists this user's processes.
	Procs    func() ([]Proc, error)
	ReadFile func(string) ([]byte, error)
	Stat     func(string) (fs.FileInfo, error)
	ReadDir  func(string) ([]os.DirEntry, error)
	// FreeBytes is the space free to this user on dir's filesystem.
	FreeBytes func(dir string) (int64, error)
	// Writable creates and removes a file in dir.
	Writable func(dir string) error
	// Resolve looks host up (short timeout).
	Resolve func(ctx context.Context, host string) error
	// Instance is the installation cfg names (from the app); Server and
	// Watchdog default to asking it.
	Instance *ctl.Instance
	// Server is the running server's pid (0: not running).
	Server func() int
	// Watchdog is the watchdog's state (ctl).
	Watchdog func() ctl.WatchdogStatus
	// UpdateStatus is the last update's outcome (internal/update).
	UpdateStatus func() (update.Status, error)
	// LastCheck is the last check of the feed (ok false: none ran here).
	LastCheck func() (update.CheckResult, bool, error)
	// Self is doctor's own pid (left out of the process scans).
	Self int
}

func (p *Probes) defaults() {
	if p.Getenv == nil {
		p.Getenv = os.Getenv
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Command == nil {
		p.Command = runCommand
	}
	if p.Lifetimes == nil {
		p.Lifetimes = func() ([]diag.Lifetime, error) {
			return diag.Load(p.Config.StateDir, diag.LoadOptions{Android: p.Platform.Android.Value})
		}
	}
	if p.Procs == nil {
		p.Procs = func() ([]Proc, error) { return userProcs("/proc", selfUID("/proc")) }
	}
	if p.ReadFile == nil {
		p.ReadFile = os.ReadFile
	}
	if p.Stat == nil {
		p.Stat = os.Stat
	}
	if p.ReadDir == nil {
		p.ReadDir = os.ReadDir
	}
	if p.FreeBytes == nil {
		p.FreeBytes = freeBytes
	}
	if p.Writable == nil {
		p.Writable = writable
	}
	if p.Resolve == nil {
		p.Resolve = func(ctx context.Context, host string) error {
			r := update.Resolver("/etc/resolv.conf", p.prefix())
			if r == nil {
				r = net.DefaultResolver
			}
			_, err := r.LookupHost(ctx, host)
			return err
		}
	}
	if p.Server == nil {
		p.Server = func() int { pid, _ := p.Instance.Running(); return pid }
	}
	if p.Watchdog == nil {
		p.Watchdog = p.Instance.Watchdog
	}
	if p.UpdateStatus == nil {
		p.UpdateStatus = func() (update.Status, error) { return update.ReadStatus(p.Config.StateDir) }
	}
	if p.LastCheck == nil {
		p.LastCheck = func() (update.CheckResult, bool, error) { return update.ReadLastCheck(p.Config.StateDir) }
	}
	if p.Self == 0 {
		p.Self = os.Getpid()
	}
}

// termux: webui runs inside the Termux app (not PRoot, not plain Linux).
func (p *Probes) termux() bool { return p.Platform.Termux.Value }

// prefix is Termux's $PREFIX ("" off Termux).
func (p *Probes) prefix() string {
	if p.Platform.Prefix != "" {
		return p.Platform.Prefix
	}
	if p.termux() {
		if v := strings.TrimRight(p.Getenv("PREFIX"), "/"); v != "" {
			return v
		}
	}
	return ""
}

// commandTimeout bounds getprop and settings: `settings` starts a JVM-less
// binder client that can hang when the service refuses the app's uid.
const commandTimeout = 3 * time.Second

// runCommand runs name (from PATH, or /system/bin) and returns its stdout.
func runCommand(ctx context.Context, name string, args ...string) (string, error) {
	path, err := proc.LookPath(name)
	if err != nil {
		if alt := "/system/bin/" + name; unix.Access(alt, unix.X_OK) == nil {
			path = alt
		} else {
			return "", fmt.Errorf("%s not found", name)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	var out bytes.Buffer
	read := make(chan struct{})
	diag.Go("doctor command output", func() {
		defer close(read)
		_, _ = io.Copy(&out, io.LimitReader(r, 64<<10))
		_, _ = io.Copy(io.Discard, r)
	})
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	ws, err := proc.Run(ctx, path, append([]string{name}, args...), proc.Attr{Stdout: w})
	w.Close()
	<-read
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return "", fmt.Errorf("%s failed (%v): %s", name, ws, strings.TrimSpace(out.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// selfUID is this process's real uid as /proc shows it: under PRoot,
// getuid answers the fake root while /proc lists the app's real uid.
func selfUID(root string) int {
	if b, err := os.ReadFile(filepath.Join(root, "self", "status")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if n, err := strconv.Atoi(f[0]); err == nil {
						return n
					}
				}
			}
		}
	}
	return os.Getuid()
}

// userProcs lists the processes of uid under root (/proc).
func userProcs(root string, uid int) ([]Proc, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join(root, e.Name(), "status"))
		if err != nil {
			continue
		}
		p := Proc{PID: pid}
		owner := -1
		for _, line := range strings.Split(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			switch k {
			case "Name":
				p.Comm = f[0]
			case "PPid":
				p.PPID, _ = strconv.Atoi(f[0])
			case "Uid":
				owner, _ = strconv.Atoi(f[0])
			case "State":
				if f[0] == "Z" {
					owner = -1 // a zombie holds no slot worth counting
				}
			}
		}
		if owner != uid {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(root, e.Name(), "cmdline")); err == nil {
			p.Args = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
		out = append(out, p)
	}
	return out, nil
}

// freeBytes is the space free to an unprivileged user on dir's filesystem,
// looking at the nearest directory that exists.
func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(existing(dir), &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// existing is dir or its nearest ancestor that exists.
func existing(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			return d
		}
	}
}

// errMissing: the directory is not there yet (serve creates it).
var errMissing = errors.New("does not exist yet")

// writable creates and removes a file in dir; a dir that does not exist
// yet is judged by the nearest ancestor, which serve would create it in.
func writable(dir string) error {
	d := existing(dir)
	f, err := os.CreateTemp(d, ".doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	if d != filepath.Clean(dir) {
		return fmt.Errorf("%w (%s is writable)", errMissing, d)
	}
	return nil
}
