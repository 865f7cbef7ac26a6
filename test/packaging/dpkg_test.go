package packaging_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// sandbox is a throwaway copy of this machine: an overlay whose lower layer
// is the host's root file system and whose upper layer is a temp dir. Real
// dpkg installs into it with --root, and runs the maintainer scripts
// chrooted into it with the host's own adduser, deb-systemd-helper and so
// on, while the host stays untouched. Each command runs in a private mount
// namespace (unshare), so the mounts vanish when it ends, even on a crash.
type sandbox struct {
	upper, work, root string
}

// sandboxMount mounts the overlay, then /dev and a fresh /proc, /run and
// /tmp, and runs the command. /run has no systemd/system in it, so the
// scripts take their no-systemd paths.
const sandboxMount = `set -e
upper=$1 work=$2 root=$3; shift 3
mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
exec "$@"
`

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	require(t, runtime.GOOS == "linux", "needs Linux")
	tool(t, "dpkg")
	tool(t, "unshare")
	tool(t, "chroot")
	require(t, os.Geteuid() == 0, "the dpkg cycle needs root (for mount and chroot); run as root, or with sudo")
	dir := t.TempDir()
	s := &sandbox{filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "root")}
	for _, d := range []string{s.upper, s.work, s.root} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Probe: can this machine make the overlay at all?
	if out, err := s.exec("true"); err != nil {
		require(t, false, "cannot mount an overlay sandbox here: %v: %s", err, out)
	}
	// Start from a system without webui, whatever the host has.
	s.sh(t, `dpkg --purge webui >/dev/null 2>&1 || true
rm -rf /etc/webui /var/lib/webui /var/log/webui /run/webui
if getent passwd webui >/dev/null; then userdel webui; fi
if getent group webui >/dev/null; then groupdel webui; fi`)
	t.Cleanup(func() {
		// The work dir holds a mode-000 directory; make it removable.
		os.Chmod(filepath.Join(s.work, "work"), 0o755)
	})
	return s
}

// exec runs a command in the sandbox's mount namespace (not chrooted) and
// returns its output, stdout and stderr together.
func (s *sandbox) exec(args ...string) (string, error) {
	stdout, stderr, err := s.run(args...)
	return stdout + stderr, err
}

func (s *sandbox) run(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", sandboxMount, "sh", s.upper, s.work, s.root}, args...)...)
	cmd.Stdin = nil // no terminal: dpkg must never need to ask
	cmd.Env = append(cleanEnv("DPKG_ROOT", "PREFIX", "TERMUX_VERSION", "SVDIR"), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// dpkg runs dpkg on the sandbox and fails the test if it fails.
func (s *sandbox) dpkg(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.exec(append([]string{"dpkg", "--root=" + s.root}, args...)...)
	t.Logf("dpkg %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("dpkg %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// sh runs a script inside the sandbox (chrooted) and returns its output.
func (s *sandbox) sh(t *testing.T, script string) string {
	t.Helper()
	out, err := s.exec("chroot", s.root, "sh", "-c", script)
	if err != nil {
		t.Fatalf("in the sandbox: %v\n%s\n%s", err, script, out)
	}
	return out
}

// stat describes paths inside the sandbox: "type mode owner:group", or
// "missing".
func (s *sandbox) stat(t *testing.T, paths ...string) map[string]string {
	t.Helper()
	var script strings.Builder
	for _, p := range paths {
		script.WriteString("if [ -e '" + p + "' ] || [ -L '" + p + "' ]; then stat -c '%n|%F %a %U:%G' '" + p + "'; else echo '" + p + "|missing'; fi\n")
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s.sh(t, script.String())), "\n") {
		p, desc, _ := strings.Cut(line, "|")
		out[p] = desc
	}
	return out
}

func (s *sandbox) status(t *testing.T) string {
	t.Helper()
	// Empty when dpkg knows nothing of webui.
	out, _, _ := s.run("dpkg-query", "--root="+s.root, "-W", "-f=${Status} ${Version}", "webui")
	return strings.TrimSpace(out)
}

func expectStat(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
}

// TestDpkgCycleLinux installs the amd64 package with real dpkg, edits the
// conffile, upgrades to a newer build, removes and purges it.
func TestDpkgCycleLinux(t *testing.T) {
	t.Parallel()
	require(t, runtime.GOARCH == "amd64", "installs the amd64 package; this machine is %s", runtime.GOARCH)
	s := newSandbox(t)
	old := debPath(mainDebs(t), v1, "linux-amd64")
	newer := debPath(debs(t, "upgrade", v2, "termux-x86_64", "linux-amd64"), v2, "linux-amd64")

	// Install.
	s.dpkg(t, "--install", old)
	if got := s.status(t); got != "install ok installed "+v1 {
		t.Fatalf("status after install: %q", got)
	}
	expectStat(t, s.stat(t, "/usr/bin/webui", "/etc/webui/webui.conf", "/usr/lib/systemd/system/webui.service",
		"/var/lib/webui", "/var/log/webui", "/etc/systemd/system/multi-user.target.wants/webui.service"), map[string]string{
		"/usr/bin/webui":                        "regular file 755 root:root",
		"/etc/webui/webui.conf":                 "regular file 644 root:root",
		"/usr/lib/systemd/system/webui.service": "regular file 644 root:root",
		"/var/lib/webui":                        "directory 750 webui:webui",
		"/var/log/webui":                        "directory 750 webui:webui",
		// deb-systemd-helper enabled the unit on first install.
		"/etc/systemd/system/multi-user.target.wants/webui.service": "symbolic link 777 root:root",
	})
	user := strings.Split(strings.TrimSpace(s.sh(t, "getent passwd webui")), ":")
	if len(user) != 7 || user[5] != "/var/lib/webui" || len(user[2]) > 3 {
		t.Errorf("webui user: %q, want a system user with home /var/lib/webui", user)
	}
	if out := s.sh(t, "webui version"); !strings.Contains(out, v1) {
		t.Errorf("webui version: %q, want %s", out, v1)
	}

	// The admin edits the conffile; an upgrade keeps the edit without asking.
	s.sh(t, "echo 'addr = 127.0.0.1:9999' >> /etc/webui/webui.conf")
	s.dpkg(t, "--install", newer)
	if got := s.status(t); got != "install ok installed "+v2 {
		t.Fatalf("status after upgrade: %q", got)
	}
	conf := s.sh(t, "cat /etc/webui/webui.conf; ls /etc/webui")
	if !strings.Contains(conf, "\naddr = 127.0.0.1:9999\n") || strings.Contains(conf, ".dpkg-") {
		t.Errorf("after the upgrade the edited conffile is not kept as it was:\n%s", conf)
	}
	if out := s.sh(t, "webui version; webui config"); !strings.Contains(out, v2) || !strings.Contains(out, "127.0.0.1:9999") {
		t.Errorf("after the upgrade: %s", out)
	}

	// Remove: the program goes; config, state and the user stay.
	s.dpkg(t, "--remove", "webui")
	if got := s.status(t); got != "deinstall ok config-files "+v2 {
		t.Errorf("status after remove: %q", got)
	}
	expectStat(t, s.stat(t, "/usr/bin/webui", "/etc/webui/webui.conf", "/var/lib/webui"), map[string]string{
		"/usr/bin/webui":        "missing",
		"/etc/webui/webui.conf": "regular file 644 root:root",
		"/var/lib/webui":        "directory 750 webui:webui",
	})

	// Purge: everything goes, the user too.
	s.dpkg(t, "--purge", "webui")
	if got := s.status(t); got != "" && !strings.HasPrefix(got, "unknown ok not-installed") {
		t.Errorf("status after purge: %q", got)
	}
	expectStat(t, s.stat(t, "/etc/webui", "/var/lib/webui", "/var/log/webui",
		"/etc/systemd/system/multi-user.target.wants/webui.service", "/etc/systemd/system/webui.service"), map[string]string{
		"/etc/webui":     "missing",
		"/var/lib/webui": "missing",
		"/var/log/webui": "missing",
		"/etc/systemd/system/multi-user.target.wants/webui.service": "missing",
		"/etc/systemd/system/webui.service":                         "missing",
	})
	if out := s.sh(t, "getent passwd webui; getent group webui; true"); out != "" {
		t.Errorf("the webui user or group survived the purge: %q", out)
	}
}

// TestDpkgCycleTermux runs the x86_64 Termux package (its binary runs on an
// amd64 host) through the same cycle, in a sandbox given Termux's
// /data/data/com.termux/files/usr/bin/sh. It checks the termux-services
// handling both without termux-services and with stand-in sv tools.
func TestDpkgCycleTermux(t *testing.T) {
	t.Parallel()
	require(t, runtime.GOARCH == "amd64", "installs the x86_64 package; this machine is %s", runtime.GOARCH)
	s := newSandbox(t)
	old := debPath(mainDebs(t), v1, "termux-x86_64")
	newer := debPath(debs(t, "upgrade", v2, "termux-x86_64", "linux-amd64"), v2, "termux-x86_64")
	// Host dpkg is not Termux's: let it take Architecture x86_64, and
	// resolv-conf and ca-certificates (Termux packages) as missing.
	force := []string{"--force-architecture", "--force-depends"}
	p := termuxPrefix
	s.sh(t, "mkdir -p "+p+"/bin && ln -s /bin/sh "+p+"/bin/sh")

	out := s.dpkg(t, append(force, "--install", old)...)
	if !strings.Contains(out, "webui ctl start") || !strings.Contains(out, "sv-enable webui") {
		t.Errorf("postinst did not print the next steps:\n%s", out)
	}
	expectStat(t, s.stat(t, p+"/bin/webui", p+"/var/lib/webui", p+"/var/log/webui", p+"/var/run", p+"/var/service/webui/down"), map[string]string{
		p + "/bin/webui":              "regular file 755 root:root",
		p + "/var/lib/webui":          "directory 755 root:root",
		p + "/var/log/webui":          "directory 755 root:root",
		p + "/var/run":                "directory 755 root:root",
		p + "/var/service/webui/down": "regular empty file 644 root:root",
	})

	// sv-enable deletes down; the user edits the config. An upgrade keeps
	// both: the service stays enabled.
	s.sh(t, "rm "+p+"/var/service/webui/down && echo 'addr = 127.0.0.1:9999' >> "+p+"/etc/webui/webui.conf")
	s.dpkg(t, append(force, "--install", newer)...)
	if got := s.status(t); got != "install ok installed "+v2 {
		t.Fatalf("status after upgrade: %q", got)
	}
	expectStat(t, s.stat(t, p+"/var/service/webui/down", p+"/var/service/webui/run"), map[string]string{
		p + "/var/service/webui/down": "missing",
		p + "/var/service/webui/run":  "regular file 755 root:root",
	})
	if conf := s.sh(t, "cat "+p+"/etc/webui/webui.conf"); !strings.Contains(conf, "\naddr = 127.0.0.1:9999\n") {
		t.Errorf("the edited config was not kept:\n%s", conf)
	}

	// With termux-services (stand-ins that log their calls), removal
	// disables and stops the service.
	s.sh(t, `for c in sv sv-disable; do
printf '#!/bin/sh\necho "$(basename "$0") $* SVDIR=$SVDIR" >> /sv.log\n' > `+p+`/bin/$c
chmod 755 `+p+`/bin/$c
done
mkdir -p `+p+`/var/service/webui/supervise `+p+`/var/lib/webui/lifetimes
touch `+p+`/var/lib/webui/lifetimes/1`)
	s.dpkg(t, append(force, "--remove", "webui")...)
	if log := s.sh(t, "cat /sv.log"); !strings.Contains(log, "sv-disable webui SVDIR="+p+"/var/service") || !strings.Contains(log, "sv down webui") {
		t.Errorf("prerm did not disable and stop the service; calls:\n%s", log)
	}
	expectStat(t, s.stat(t, p+"/bin/webui", p+"/etc/webui/webui.conf", p+"/var/lib/webui/lifetimes/1"), map[string]string{
		p + "/bin/webui":                 "missing",
		p + "/etc/webui/webui.conf":      "regular file 644 root:root",
		p + "/var/lib/webui/lifetimes/1": "regular empty file 644 root:root",
	})

	s.dpkg(t, append(force, "--purge", "webui")...)
	expectStat(t, s.stat(t, p+"/etc/webui", p+"/var/lib/webui", p+"/var/log/webui", p+"/var/service/webui"), map[string]string{
		p + "/etc/webui":         "missing",
		p + "/var/lib/webui":     "missing",
		p + "/var/log/webui":     "missing",
		p + "/var/service/webui": "missing",
	})

	// Without termux-services, install and remove still succeed.
	s.sh(t, "rm "+p+"/bin/sv "+p+"/bin/sv-disable")
	s.dpkg(t, append(force, "--install", newer)...)
	s.dpkg(t, append(force, "--purge", "webui")...)
}
