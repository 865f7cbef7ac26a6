package update

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/debfile"
	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
)

// Install methods.
const (
	// MethodSwap replaces the binary by rename, keeping <binary>.prev.
	MethodSwap = "swap"
	// MethodDpkg installs the .deb with dpkg -i, keeping <binary>.prev too.
	MethodDpkg = "dpkg"
)

// lookPath finds dpkg; tests replace it.
var lookPath = proc.LookPath

// spaceMargin is free space kept beyond what an update needs.
const spaceMargin = 8 << 20

// installPlan is how this installation is updated.
type installPlan struct {
	Exe      string // the binary, symlinks resolved
	Method   string
	Kind     string // the artifact kind the method installs
	AdminDir string // dpkg's database (dpkg only)
	Dpkg     string // dpkg's path (dpkg only)
	Note     string // why the method was chosen, when not obvious
}

// planInstall decides how to update the binary at exe: with dpkg when dpkg
// owns it and its database is writable here (Termux, or root), else by
// swapping the file, which needs its directory to be writable.
func planInstall(exe string) (installPlan, error) {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	p := installPlan{Exe: exe, Method: MethodSwap, Kind: KindBinary}
	admin := dpkgAdminDir(exe)
	owned := dpkgOwns(admin, exe)
	if owned {
		dpkg, lerr := lookPath("dpkg")
		switch {
		case unix.Access(admin, unix.W_OK) != nil:
			p.Note = fmt.Sprintf("dpkg owns %s, but its database %s is not writable by this user", exe, admin)
		case lerr != nil:
			p.Note = fmt.Sprintf("dpkg owns %s, but no dpkg program is in PATH", exe)
		default:
			p.Method, p.Kind, p.AdminDir, p.Dpkg = MethodDpkg, KindDeb, admin, dpkg
			return p, nil
		}
	}
	dir := filepath.Dir(exe)
	if err := unix.Access(dir, unix.W_OK); err != nil {
		msg := fmt.Sprintf("cannot update %s: its directory %s is not writable by this user (uid %d)", exe, dir, os.Getuid())
		if owned {
			msg += "; it belongs to the webui package: update it with apt or pkg, or run `sudo webui update apply`"
		}
		return p, errorf(403, "%s", msg)
	}
	return p, nil
}

// dpkgAdminDir is the dpkg database that would own exe: /var/lib/dpkg for
// /usr/bin/webui, $PREFIX/var/lib/dpkg for Termux's $PREFIX/bin/webui.
func dpkgAdminDir(exe string) string {
	prefix := filepath.Dir(filepath.Dir(exe))
	if prefix == "/usr" || prefix == "/" {
		return "/var/lib/dpkg"
	}
	return filepath.Join(prefix, "var", "lib", "dpkg")
}

// dpkgOwns reads the webui package's file list (what `dpkg -S` reads)
// and reports whether exe is in it.
func dpkgOwns(admin, exe string) bool {
	lists, _ := filepath.Glob(filepath.Join(admin, "info", "webui:*.list"))
	lists = append([]string{filepath.Join(admin, "info", "webui.list")}, lists...)
	for _, l := range lists {
		f, err := os.Open(l)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if filepath.Clean(strings.TrimSpace(sc.Text())) == exe {
				f.Close()
				return true
			}
		}
		f.Close()
	}
	return false
}

// DetectTarget names the release target this binary belongs to: a binary
// under Termux's prefix (or built for Android) takes the termux-* build,
// anything else the linux-* one.
func DetectTarget(exe string) (string, error) {
	termux := runtime.GOOS == "android" || strings.HasPrefix(exe, paths.TermuxPrefix+"/")
	arch := map[bool]map[string]string{
		true:  {"arm64": "aarch64", "arm": "arm", "amd64": "x86_64", "386": "i686"},
		false: {"amd64": "amd64", "arm64": "arm64"},
	}[termux][runtime.GOARCH]
	if arch == "" {
		return "", fmt.Errorf("no release is built for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if termux {
		return "termux-" + arch, nil
	}
	return "linux-" + arch, nil
}

// DebArchTarget maps a .deb's Architecture to its release target: Termux
// and Debian name the same CPUs differently, which tells the families
// apart.
var DebArchTarget = map[string]string{
	"aarch64": "termux-aarch64", "arm": "termux-arm", "x86_64": "termux-x86_64", "i686": "termux-i686",
	"amd64": "linux-amd64", "arm64": "linux-arm64",
}

// freeBytes is the space an unprivileged user may still fill in dir's
// file system; tests replace it.
var freeBytes = func(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// checkSpace refuses an update that could fill dir's file system: it
// needs factor × size plus a margin.
func checkSpace(dir string, size int64, factor int64, what string) error {
	need := factor*size + spaceMargin
	have, err := freeBytes(dir)
	if err != nil {
		return fmt.Errorf("free space in %s: %w", dir, err)
	}
	if have < need {
		return &Error{Code: 507, Msg: fmt.Sprintf("not enough free space in %s: %s needs %s (%s), but only %s is free; free some space and retry",
			dir, what, mib(need), spaceWhy(factor, size), mib(have))}
	}
	return nil
}

func spaceWhy(factor, size int64) string {
	if factor == 1 {
		return fmt.Sprintf("the %s artifact plus a %s margin", mib(size), mib(spaceMargin))
	}
	return fmt.Sprintf("%d × the %s artifact plus a %s margin", factor, mib(size), mib(spaceMargin))
}

func mib(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// prevPath is where the binary before an update is kept.
func prevPath(exe string) string { return exe + ".prev" }

// tempPrefix names the temp files an install leaves in the binary's
// directory if it is killed; cleanup removes them.
const tempPrefix = ".webui-update-"

// keepPrev makes <exe>.prev the current binary: a hard link (the running
// process's /proc/self/exe keeps naming exe, so an exec restart runs the
// new file), or a copy where links are not allowed. It replaces an older
// .prev atomically.
func keepPrev(exe string) (string, error) {
	prev := prevPath(exe)
	tmp := filepath.Join(filepath.Dir(exe), tempPrefix+"prev-"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Link(exe, tmp); err != nil {
		if err := copyFile(exe, tmp); err != nil {
			return "", fmt.Errorf("keep the current binary as %s: %w", prev, err)
		}
	}
	if err := os.Rename(tmp, prev); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("keep the current binary as %s: %w", prev, err)
	}
	return prev, nil
}

// copyFile copies src to dst (created with src's mode) and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// swapBinary replaces exe with staged so that a crash at any moment
// leaves exe whole, old or new: the new binary is copied into a temp file
// beside exe and fsynced, the current one is kept as .prev, the temp file
// is renamed over exe, and the directory is fsynced.
func swapBinary(exe, staged string) (prev string, err error) {
	dir := filepath.Dir(exe)
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"new-*")
	if err != nil {
		return "", fmt.Errorf("write into %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmpName)
		}
	}()
	in, err := os.Open(staged)
	if err != nil {
		tmp.Close()
		return "", err
	}
	_, err = io.Copy(tmp, in)
	in.Close()
	if err == nil {
		err = tmp.Chmod(st.Mode().Perm() | 0o111)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", tmpName, err)
	}
	if prev, err = keepPrev(exe); err != nil {
		return "", err
	}
	pause(PauseInstall)
	if err = os.Rename(tmpName, exe); err != nil {
		_ = os.Remove(prev)
		return "", fmt.Errorf("replace %s: %w", exe, err)
	}
	syncDir(dir)
	return prev, nil
}

// restorePrev puts .prev back over exe (a rollback).
func restorePrev(exe, prev string) error {
	if err := os.Rename(prev, exe); err != nil {
		return fmt.Errorf("restore %s from %s: %w", exe, prev, err)
	}
	syncDir(filepath.Dir(exe))
	return nil
}

// cleanTemps removes what a killed install left beside exe.
func cleanTemps(exe string) {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(exe), tempPrefix+"*"))
	for _, f := range m {
		_ = os.Remove(f)
	}
}

// dpkgInstall runs dpkg -i on deb with handoff.Updating set to 1 (the
// maintainer scripts then leave restarting the server to the update),
// keeping the admin's conffiles without asking. Its output goes to logPath.
func dpkgInstall(ctx context.Context, dpkg, deb, logPath string) error {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	env := append(os.Environ(), handoff.Updating+"=1", "DEBIAN_FRONTEND=noninteractive")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	argv := []string{dpkg, "--force-confdef", "--force-confold", "-i", deb}
	ws, err := proc.Run(ctx, dpkg, argv, proc.Attr{Env: env, Stdout: logf, Stderr: logf})
	if err == nil && ws.ExitStatus() != 0 {
		err = fmt.Errorf("exit code %d", ws.ExitStatus())
	}
	if err == nil && ws.Signaled() {
		err = fmt.Errorf("killed by signal %d", ws.Signal())
	}
	if err != nil {
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("dpkg -i %s: %v: %s", filepath.Base(deb), err, lastLines(string(b), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// debInfo is what a .deb's control file says.
type debInfo struct {
	Package, Version, Architecture string
}

// readDebControl reads the control file of a .deb.
func readDebControl(path string) (debInfo, error) {
	b, err := debfile.Control(path)
	if err != nil {
		return debInfo{}, err
	}
	p, err := debfile.ParseOne(b)
	if err != nil {
		return debInfo{}, fmt.Errorf("control file: %w", err)
	}
	return debInfo{Package: p.Get("Package"), Version: p.Get("Version"), Architecture: p.Get("Architecture")}, nil
}

// elfArch is the GOARCH a binary is built for ("" if it is not ELF).
func elfArch(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_386:
		return "386"
	}
	return f.Machine.String()
}

// isDeb reports whether the file starts like a .deb (an ar archive).
func isDeb(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 8)
	_, err = io.ReadFull(f, b)
	return err == nil && bytes.Equal(b, []byte("!<arch>\n"))
}
