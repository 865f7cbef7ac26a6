package platform

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// machine describes a fake platform: files under a proc root and a
// filesystem root, an environment and the process ids.
type machine struct {
	goos, goarch string
	env          map[string]string
	pid, ppid    int
	proc         map[string]string // path under /proc -> content
	fs           map[string]string // path under / -> content
	exe          string            // target of /proc/self/exe, if any
}

func (m machine) build(t *testing.T) Env {
	t.Helper()
	dir := t.TempDir()
	procRoot := filepath.Join(dir, "proc")
	fsRoot := filepath.Join(dir, "root")
	write := func(root string, files map[string]string) {
		for name, content := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(procRoot, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(fsRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	write(procRoot, m.proc)
	write(fsRoot, m.fs)
	if m.exe != "" {
		if err := os.Symlink(m.exe, filepath.Join(procRoot, "self", "exe")); err != nil {
			t.Fatal(err)
		}
	}
	return Env{
		ProcRoot: procRoot,
		FSRoot:   fsRoot,
		Getenv:   func(k string) string { return m.env[k] },
		GOOS:     m.goos,
		GOARCH:   m.goarch,
		PID:      m.pid,
		PPID:     m.ppid,
	}
}

// status renders a /proc/<pid>/status file in the kernel's format.
func status(name string, pid, ppid, tracer int) string {
	return "Name:\t" + name + "\n" +
		"Umask:\t0077\n" +
		"State:\tS (sleeping)\n" +
		"Tgid:\t" + itoa(pid) + "\n" +
		"Ngid:\t0\n" +
		"Pid:\t" + itoa(pid) + "\n" +
		"PPid:\t" + itoa(ppid) + "\n" +
		"TracerPid:\t" + itoa(tracer) + "\n" +
		"Uid:\t10190\t10190\t10190\t10190\n" +
		"Gid:\t10190\t10190\t10190\t10190\n" +
		"FDSize:\t64\n" +
		"VmRSS:\t   12345 kB\n" +
		"Threads:\t9\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

const (
	// Android 14, Termux from F-Droid: cgroup v2 app hierarchy plus v1 cpuset.
	cgroupAndroid14 = "4:memory:/\n3:cpuset:/top-app\n2:cpu:/\n1:blkio:/\n0::/apps/uid_10190/pid_11887\n"
	// Android 11: the older uid layout, schedtune and cpuacct still present.
	cgroupAndroid11 = "6:schedtune:/top-app\n5:memory:/\n4:cpuset:/top-app\n3:cpuacct:/uid_10179/pid_11869\n2:cpu:/\n1:blkio:/\n0::/uid_10179/pid_11869\n"
	// Android 10 in the background, no cgroup v2 line at all.
	cgroupAndroid10 = "5:schedtune:/background\n4:memory:/\n3:cpuset:/\n2:cpuacct:/uid_10123/pid_4567\n1:blkio:/\n"
	cgroupDesktop   = "0::/user.slice/user-1000.slice/session-2.scope\n"
	cgroupGnomeTerm = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-7a3c2f2e-1d7b-4f4e-9d8e-0b9b9b0f7a11.scope\n"
	cgroupService   = "0::/system.slice/webui.service\n"
	cgroupHybrid    = "12:memory:/system.slice/webui.service\n2:cpu,cpuacct:/system.slice/webui.service\n1:name=systemd:/system.slice/webui.service\n0::/system.slice/webui.service\n"
	cgroupDocker    = "0::/\n"
	cgroupDockerV1  = "12:memory:/docker/3f1c0a8e9b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6\n1:name=systemd:/docker/3f1c0a8e9b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6\n0::/system.slice/docker-3f1c0a8e9b2d.scope\n"
	buildProp14     = "# begin common build properties\nro.system.build.date=Mon Oct  2 10:00:00 UTC 2023\nro.build.version.sdk=34\nro.build.version.release=14\nro.build.version.release_or_codename=14\nro.product.system.brand=google\n"
)

var termuxEnv = map[string]string{
	"TERMUX_VERSION": "0.118.1",
	"PREFIX":         "/data/data/com.termux/files/usr",
	"HOME":           "/data/data/com.termux/files/home",
	"ANDROID_ROOT":   "/system",
	"ANDROID_DATA":   "/data",
	"TMPDIR":         "/data/data/com.termux/files/usr/tmp",
}

func termuxPhone() machine {
	return machine{
		goos: "android", goarch: "arm64", env: termuxEnv, pid: 11887, ppid: 11800,
		proc: map[string]string{
			"self/cgroup":  cgroupAndroid14,
			"self/status":  status("webui", 11887, 11800, 0),
			"11800/comm":   "bash\n",
			"11800/status": status("bash", 11800, 11700, 0),
		},
		fs:  map[string]string{"system/build.prop": buildProp14},
		exe: "/data/data/com.termux/files/usr/bin/webui",
	}
}
