package platform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/health"
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

func TestDetect(t *testing.T) {
	type want struct {
		termux, android, proot bool
		supervisor             string
		strategy               string
		why                    string // substring of the reason
		app                    string
		uid, pid               int
		version, prefix        string
		evidence               map[string][]string // fact -> items that must be present
	}
	tests := []struct {
		name string
		m    machine
		mode string
		want want
	}{
		{
			name: "termux phone",
			m:    termuxPhone(),
			mode: "auto",
			want: want{
				termux: true, android: true, supervisor: "none", strategy: "delayed",
				why: "Android detected (cgroup 0::/apps/uid_10190/pid_11887): new processes started within ~10s of an exit are killed",
				app: "top-app", uid: 10190, pid: 11887, version: "14", prefix: "/data/data/com.termux/files/usr",
				evidence: map[string][]string{
					"termux": {"env TERMUX_VERSION=0.118.1", "env PREFIX=/data/data/com.termux/files/usr", "/proc/self/exe -> /data/data/com.termux/files/usr/bin/webui"},
					"android": {
						"/proc/self/cgroup: 0::/apps/uid_10190/pid_11887", "/proc/self/cgroup: 3:cpuset:/top-app",
						"GOOS=android", "env ANDROID_ROOT=/system", "env ANDROID_DATA=/data",
						"/system/build.prop: ro.build.version.release=14",
					},
				},
			},
		},
		{
			name: "termux phone, older cgroup layout",
			m: machine{
				goos: "android", goarch: "arm64", env: map[string]string{"TERMUX_VERSION": "0.118.0"}, pid: 11869, ppid: 11800,
				proc: map[string]string{"self/cgroup": cgroupAndroid11, "self/status": status("webui", 11869, 11800, 0), "11800/comm": "sh\n"},
			},
			want: want{
				termux: true, android: true, supervisor: "none", strategy: "delayed",
				why: "(cgroup 0::/uid_10179/pid_11869)",
				app: "top-app", uid: 10179, pid: 11869, prefix: "/data/data/com.termux/files/usr",
				evidence: map[string][]string{
					"android": {"/proc/self/cgroup: 0::/uid_10179/pid_11869", "/proc/self/cgroup: 4:cpuset:/top-app", "GOOS=android"},
				},
			},
		},
		{
			name: "android 10, cgroup v1 only, background",
			m: machine{
				goos: "linux", goarch: "arm", pid: 4567, ppid: 4500,
				proc: map[string]string{"self/cgroup": cgroupAndroid10},
			},
			want: want{
				android: true, supervisor: "none", strategy: "delayed",
				why: "(cgroup 2:cpuacct:/uid_10123/pid_4567)",
				app: "background", uid: 10123, pid: 4567,
				evidence: map[string][]string{
					"android": {"/proc/self/cgroup: 2:cpuacct:/uid_10123/pid_4567", "/proc/self/cgroup: 5:schedtune:/background"},
				},
			},
		},
		{
			name: "proot-distro ubuntu on android",
			m: machine{
				goos: "linux", goarch: "arm64", pid: 12001, ppid: 11990,
				env: map[string]string{"HOME": "/root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				proc: map[string]string{
					"self/cgroup": cgroupAndroid14,
					"self/status": status("webui", 12001, 11990, 4321),
					"4321/status": status("proot", 4321, 4300, 0),
					"11990/comm":  "bash\n",
				},
			},
			want: want{
				android: true, proot: true, supervisor: "none", strategy: "delayed",
				why: "Android detected under PRoot (cgroup 0::/apps/uid_10190/pid_11887)",
				app: "top-app", uid: 10190, pid: 11887,
				evidence: map[string][]string{
					"android": {"/proc/self/cgroup: 0::/apps/uid_10190/pid_11887"},
					"proot":   {"/proc/self/status: TracerPid: 4321", "/proc/4321/status: proot"},
				},
			},
		},
		{
			name: "proot tracer found by comm",
			m: machine{
				goos: "linux", goarch: "arm64", pid: 12001, ppid: 11990,
				proc: map[string]string{
					"self/cgroup": cgroupAndroid11,
					"self/status": status("webui", 12001, 11990, 4321),
					"4321/comm":   "proot\n",
				},
				fs: map[string]string{"system/build.prop": buildProp14},
			},
			want: want{
				android: true, proot: true, supervisor: "none", strategy: "delayed", why: "under PRoot",
				app: "top-app", uid: 10179, pid: 11869, version: "14",
				evidence: map[string][]string{"proot": {"/proc/4321/comm: proot"}},
			},
		},
		{
			name: "debian desktop",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 5000, ppid: 4990,
				env: map[string]string{"HOME": "/home/ann", "XDG_RUNTIME_DIR": "/run/user/1000"},
				proc: map[string]string{
					"self/cgroup": cgroupDesktop,
					"self/status": status("webui", 5000, 4990, 0),
					"4990/comm":   "bash\n",
					"1/comm":      "systemd\n",
				},
			},
			want: want{supervisor: "none", strategy: "exec", why: "not Android and no supervisor"},
		},
		{
			name: "debian desktop, debugger attached",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 5000, ppid: 4990,
				proc: map[string]string{
					"self/cgroup": cgroupDesktop,
					"self/status": status("webui", 5000, 4990, 4999),
					"4999/status": status("strace", 4999, 4990, 0),
				},
			},
			want: want{supervisor: "none", strategy: "exec"},
		},
		{
			name: "gnome terminal leaks systemd variables",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 5000, ppid: 4990,
				env: map[string]string{"INVOCATION_ID": "0f6c1b0cf3c94c8e8a3b3a6a0d5c6e21", "JOURNAL_STREAM": "8:41234", "SYSTEMD_EXEC_PID": "2100"},
				proc: map[string]string{
					"self/cgroup": cgroupGnomeTerm,
					"4990/comm":   "bash\n",
				},
			},
			want: want{
				supervisor: "none", strategy: "exec",
				evidence: map[string][]string{"supervisor": {
					"ignored env INVOCATION_ID=0f6c1b0cf3c94c8e8a3b3a6a0d5c6e21, env JOURNAL_STREAM=8:41234: inherited (not a service's process, parent is bash, cgroup " +
						"/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-7a3c2f2e-1d7b-4f4e-9d8e-0b9b9b0f7a11.scope)",
				}},
			},
		},
		{
			name: "systemd service",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 812, ppid: 1,
				env: map[string]string{"INVOCATION_ID": "9a1e8b6f4a7c4e0e9a3c2d1f0e9d8c7b", "JOURNAL_STREAM": "8:23456", "SYSTEMD_EXEC_PID": "812"},
				proc: map[string]string{
					"self/cgroup": cgroupService,
					"self/status": status("webui", 812, 1, 0),
					"1/comm":      "systemd\n",
				},
			},
			want: want{
				supervisor: "systemd", strategy: "supervisor", why: "systemd supervises this process (env INVOCATION_ID=9a1e8b6f4a7c4e0e9a3c2d1f0e9d8c7b)",
				evidence: map[string][]string{"supervisor": {
					"env INVOCATION_ID=9a1e8b6f4a7c4e0e9a3c2d1f0e9d8c7b", "env JOURNAL_STREAM=8:23456",
					"env SYSTEMD_EXEC_PID=812 is this process", "parent pid 1 is systemd, from /proc/1/comm",
					"/proc/self/cgroup: 0::/system.slice/webui.service",
				}},
			},
		},
		{
			name: "systemd service behind a shell wrapper, hybrid cgroups",
			m: machine{
				goos: "linux", goarch: "arm64", pid: 901, ppid: 900,
				env:  map[string]string{"NOTIFY_SOCKET": "/run/systemd/notify"},
				proc: map[string]string{"self/cgroup": cgroupHybrid, "900/comm": "sh\n"},
			},
			want: want{
				supervisor: "systemd", strategy: "supervisor",
				evidence: map[string][]string{"supervisor": {"env NOTIFY_SOCKET=/run/systemd/notify", "/proc/self/cgroup: 0::/system.slice/webui.service"}},
			},
		},
		{
			name: "runit on termux",
			m: func() machine {
				m := termuxPhone()
				m.proc["11800/comm"] = "runsv\n"
				return m
			}(),
			want: want{
				termux: true, android: true, supervisor: "runit", strategy: "supervisor",
				why: "runit supervises this process (parent pid 11800 is runsv, from /proc/11800/comm): exit and let it start the new binary after Android's kill window",
				app: "top-app", uid: 10190, pid: 11887, version: "14", prefix: "/data/data/com.termux/files/usr",
				evidence: map[string][]string{"supervisor": {"parent pid 11800 is runsv, from /proc/11800/comm"}},
			},
		},
		{
			name: "runit on debian, parent name from status",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 700, ppid: 690,
				proc: map[string]string{"self/cgroup": cgroupDesktop, "690/status": status("runsv", 690, 600, 0)},
			},
			want: want{
				supervisor: "runit", strategy: "supervisor",
				evidence: map[string][]string{"supervisor": {"parent pid 690 is runsv, from /proc/690/status"}},
			},
		},
		{
			name: "docker, pid 1",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 1, ppid: 0,
				proc: map[string]string{"self/cgroup": cgroupDocker, "self/status": status("webui", 1, 0, 0)},
				fs:   map[string]string{".dockerenv": ""},
			},
			want: want{
				supervisor: "docker", strategy: "exec", why: "in a container (/.dockerenv exists)",
				evidence: map[string][]string{"supervisor": {"/.dockerenv exists", "pid 1 with cgroup 0::/ (a private cgroup namespace)"}},
			},
		},
		{
			name: "docker, cgroup v1, no dockerenv",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 1,
				proc: map[string]string{"self/cgroup": cgroupDockerV1},
			},
			want: want{
				supervisor: "docker", strategy: "exec",
				evidence: map[string][]string{"supervisor": {
					"/proc/self/cgroup: 12:memory:/docker/3f1c0a8e9b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6", "pid 1",
				}},
			},
		},
		{
			name: "docker run --init, not pid 1",
			m: machine{
				goos: "linux", goarch: "amd64", pid: 7, ppid: 1,
				proc: map[string]string{"self/cgroup": cgroupDocker, "1/comm": "docker-init\n"},
			},
			want: want{
				supervisor: "docker", strategy: "exec",
				evidence: map[string][]string{"supervisor": {"/proc/1/comm: docker-init"}},
			},
		},
		{
			name: "explicit exec on android",
			m:    termuxPhone(),
			mode: "exec",
			want: want{
				termux: true, android: true, supervisor: "none", strategy: "exec", why: "set by restart_mode=exec",
				app: "top-app", uid: 10190, pid: 11887, version: "14", prefix: "/data/data/com.termux/files/usr",
			},
		},
		{
			name: "explicit delayed on debian",
			m:    machine{goos: "linux", goarch: "amd64", proc: map[string]string{"self/cgroup": cgroupDesktop}},
			mode: "delayed",
			want: want{supervisor: "none", strategy: "delayed", why: "set by restart_mode=delayed"},
		},
		{
			name: "explicit supervisor",
			m:    machine{goos: "linux", goarch: "amd64"},
			mode: " Supervisor ",
			want: want{supervisor: "none", strategy: "supervisor", why: "set by restart_mode=supervisor"},
		},
		{
			name: "unknown mode falls back to auto",
			m:    machine{goos: "linux", goarch: "amd64"},
			mode: "reboot",
			want: want{supervisor: "none", strategy: "exec", why: "unknown restart_mode=reboot, using auto: not Android"},
		},
		{
			name: "termux env alone implies android",
			m:    machine{goos: "linux", goarch: "arm", env: map[string]string{"TERMUX_VERSION": "0.118.1", "PREFIX": "/data/data/com.termux/files/usr"}},
			want: want{
				termux: true, android: true, supervisor: "none", strategy: "delayed", prefix: "/data/data/com.termux/files/usr",
				why:      "Android detected (Termux detected (an Android app))",
				evidence: map[string][]string{"android": {"Termux detected (an Android app)"}},
			},
		},
		{
			name: "termux binary replaced on disk, env cleared",
			m: machine{
				goos: "android", goarch: "arm64",
				exe: "/data/data/com.termux/files/usr/bin/webui (deleted)",
			},
			want: want{
				termux: true, android: true, supervisor: "none", strategy: "delayed", prefix: "/data/data/com.termux/files/usr",
				evidence: map[string][]string{"termux": {"/proc/self/exe -> /data/data/com.termux/files/usr/bin/webui"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Detect(tt.m.build(t))
			w := tt.want
			if r.GOOS != tt.m.goos || r.GOARCH != tt.m.goarch {
				t.Errorf("GOOS/GOARCH = %s/%s, want %s/%s", r.GOOS, r.GOARCH, tt.m.goos, tt.m.goarch)
			}
			if r.Termux.Value != w.termux || r.Android.Value != w.android || r.PRoot.Value != w.proot {
				t.Errorf("termux/android/proot = %v/%v/%v, want %v/%v/%v\n%s",
					r.Termux.Value, r.Android.Value, r.PRoot.Value, w.termux, w.android, w.proot, r.Text())
			}
			if r.Supervisor != w.supervisor {
				t.Errorf("Supervisor = %q, want %q (evidence %q)", r.Supervisor, w.supervisor, r.SupervisorEvidence)
			}
			if r.Cgroup.App != w.app || r.Cgroup.UID != w.uid || r.Cgroup.PID != w.pid {
				t.Errorf("Cgroup = %+v, want app=%q uid=%d pid=%d", r.Cgroup, w.app, w.uid, w.pid)
			}
			if r.AndroidVersion != w.version {
				t.Errorf("AndroidVersion = %q, want %q", r.AndroidVersion, w.version)
			}
			if r.Prefix != w.prefix {
				t.Errorf("Prefix = %q, want %q", r.Prefix, w.prefix)
			}
			for _, f := range []struct {
				name string
				fact Fact
			}{{"termux", r.Termux}, {"android", r.Android}, {"proot", r.PRoot}} {
				if f.fact.Value != (len(f.fact.Evidence) > 0) {
					t.Errorf("%s: value %v with evidence %q", f.name, f.fact.Value, f.fact.Evidence)
				}
			}
			got := map[string][]string{
				"termux": r.Termux.Evidence, "android": r.Android.Evidence,
				"proot": r.PRoot.Evidence, "supervisor": r.SupervisorEvidence,
			}
			for fact, items := range w.evidence {
				for _, item := range items {
					if !slices.Contains(got[fact], item) {
						t.Errorf("%s evidence lacks %q; have %q", fact, item, got[fact])
					}
				}
			}
			strategy, why := r.Strategy(tt.mode)
			if string(strategy) != w.strategy {
				t.Errorf("Strategy(%q) = %q (%s), want %q", tt.mode, strategy, why, w.strategy)
			}
			if !strings.Contains(why, w.why) {
				t.Errorf("Strategy(%q) why = %q, want it to contain %q", tt.mode, why, w.why)
			}
			if strings.ContainsAny(why, "\n\t") {
				t.Errorf("why is not one line: %q", why)
			}
			// Every evidence item shows up in the text report.
			text := r.Text()
			for _, items := range got {
				for _, item := range items {
					if !strings.Contains(text, item) {
						t.Errorf("Text() lacks %q:\n%s", item, text)
					}
				}
			}
		})
	}
}

func TestParseUIDPID(t *testing.T) {
	tests := []struct {
		path     string
		uid, pid int
		ok       bool
	}{
		{"/uid_10179/pid_11869", 10179, 11869, true},
		{"/apps/uid_10190/pid_11887", 10190, 11887, true},
		{"/apps/uid_1010190/pid_5/extra", 1010190, 5, true},
		{"/uid_10179", 0, 0, false},
		{"/apps/uid_/pid_1", 0, 0, false},
		{"/uid_-1/pid_2", 0, 0, false},
		{"/uid_1x/pid_2", 0, 0, false},
		{"/uid_99999999999999999999/pid_2", 0, 0, false},
		{"/user.slice/user-1000.slice", 0, 0, false},
		{"/", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		uid, pid, ok := parseUIDPID(tt.path)
		if uid != tt.uid || pid != tt.pid || ok != tt.ok {
			t.Errorf("parseUIDPID(%q) = %d, %d, %v; want %d, %d, %v", tt.path, uid, pid, ok, tt.uid, tt.pid, tt.ok)
		}
	}
}

func TestContainerPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/docker/3f1c0a8e9b2d", true},
		{"/system.slice/docker-3f1c0a8e9b2d.scope", true},
		{"/machine.slice/libpod-3f1c0a8e9b2d.scope/container", true},
		{"/kubepods/besteffort/pod1234/3f1c", true},
		{"/system.slice/docker.service", false},
		{"/system.slice/containerd.service", false},
		{"/docker", false},
		{"/", false},
		{"/user.slice/user-1000.slice/session-2.scope", false},
	}
	for _, tt := range tests {
		if got := containerPath(tt.path); got != tt.want {
			t.Errorf("containerPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// TestGarbage feeds junk in every file Detect reads. Nothing may panic,
// nothing junk may be believed, and the text report stays one fact a line.
func TestGarbage(t *testing.T) {
	junk := "\x00\xff\xfe:::\n\n::\n0::\n0::uid_1/pid_2\n3:cpuset:top-app\nTracerPid:\nName:\t\x1b[31mevil\x1b[0m\n" + strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		m    machine
		dirs []string // proc paths created as directories instead of files
	}{
		{name: "binary junk everywhere", m: machine{
			goos: "linux", goarch: "amd64", pid: 5, ppid: 4,
			proc: map[string]string{"self/cgroup": junk, "self/status": junk, "4/comm": junk, "4/status": junk, "1/comm": junk},
			fs:   map[string]string{"system/build.prop": junk},
		}},
		{name: "tracer pid not a number", m: machine{
			goos: "linux", proc: map[string]string{"self/status": "TracerPid:\tabc\n"},
		}},
		{name: "tracer pid negative", m: machine{
			goos: "linux", proc: map[string]string{"self/status": "TracerPid:\t-5\n"},
		}},
		{name: "tracer pid overflows", m: machine{
			goos: "linux", proc: map[string]string{"self/status": "TracerPid:\t99999999999999999999999\n"},
		}},
		{name: "tracer pid path traversal", m: machine{
			goos: "linux", proc: map[string]string{"self/status": "TracerPid:\t../../etc\n"},
		}},
		{name: "tracer vanished", m: machine{
			goos: "linux", proc: map[string]string{"self/status": "TracerPid:\t4321\n"},
		}},
		{name: "empty files", m: machine{
			goos: "linux", pid: 3, ppid: 2,
			proc: map[string]string{"self/cgroup": "", "self/status": "", "2/comm": "", "2/status": ""},
			fs:   map[string]string{"system/build.prop": ""},
		}},
		{name: "cgroup and status are directories", m: machine{goos: "linux", ppid: 2},
			dirs: []string{"self/cgroup", "self/status", "2/comm", "2/status"}},
		{name: "build.prop without a release", m: machine{
			goos: "linux", fs: map[string]string{"system/build.prop": "ro.build.version.release=\n# ro.build.version.release=99\n"},
		}},
		{name: "exe symlink loop", m: machine{goos: "linux", exe: "exe"}},
		{name: "long cgroup file", m: machine{
			goos: "linux", proc: map[string]string{"self/cgroup": strings.Repeat("1:cpu:/a\n", 10000)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.m.build(t)
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(e.ProcRoot, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			r := Detect(e)
			if r.PRoot.Value || r.Termux.Value || r.Supervisor != "none" {
				t.Errorf("junk believed: %s", r.Text())
			}
			if r.Cgroup.App != "" || r.Cgroup.UID != 0 || r.Cgroup.PID != 0 {
				t.Errorf("junk cgroup parsed: %+v", r.Cgroup)
			}
			if len(r.Cgroup.Raw) > maxRawLines {
				t.Errorf("Raw has %d lines, cap is %d", len(r.Cgroup.Raw), maxRawLines)
			}
			checkText(t, r)
			if _, err := json.Marshal(r); err != nil {
				t.Error(err)
			}
			for _, mode := range modes {
				if s, _ := r.Strategy(mode); s == "" {
					t.Errorf("Strategy(%q) is empty", mode)
				}
			}
		})
	}
}

// checkText asserts that Text() is one known fact a line, with no control
// characters smuggled in from the files.
func checkText(t *testing.T, r Report) {
	t.Helper()
	labels := []string{"os/arch", "termux", "prefix", "android", "android version", "android cgroup", "proot", "supervisor"}
	for _, line := range strings.Split(strings.TrimSuffix(r.Text(), "\n"), "\n") {
		label := strings.TrimSpace(line[:min(16, len(line))])
		if !slices.Contains(labels, label) {
			t.Errorf("unexpected Text() line %q", line)
		}
		for _, c := range line {
			if c < 0x20 || c == 0x7f {
				t.Errorf("control character %q in Text() line %q", c, line)
			}
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add(cgroupAndroid14, status("webui", 1, 0, 4321), "proot\n", buildProp14)
	f.Add(cgroupAndroid11, "TracerPid:\t0\n", "runsv\n", "")
	f.Add(cgroupDockerV1, "", "", "\x00")
	f.Add("0::/apps/uid_/pid_", "TracerPid: 1", "\xff", "ro.build.version.release=\x1b")
	f.Fuzz(func(t *testing.T, cgroup, selfStatus, comm, buildProp string) {
		m := machine{
			goos: "linux", pid: 1, ppid: 4321,
			proc: map[string]string{"self/cgroup": cgroup, "self/status": selfStatus, "4321/comm": comm, "4321/status": comm, "1/comm": comm},
			fs:   map[string]string{"system/build.prop": buildProp},
		}
		r := Detect(m.build(t))
		checkText(t, r)
		for _, mode := range modes {
			if s, why := r.Strategy(mode); s == "" || strings.ContainsAny(why, "\n\r") {
				t.Errorf("Strategy(%q) = %q, %q", mode, s, why)
			}
		}
	})
}

func TestZeroEnv(t *testing.T) {
	r := Detect(Env{})
	if r.Termux.Value || r.Android.Value || r.PRoot.Value || r.Supervisor != "none" {
		t.Errorf("zero Env detected something: %s", r.Text())
	}
	if s, _ := r.Strategy("auto"); s != "exec" {
		t.Errorf("Strategy = %q, want exec", s)
	}
}

func TestSummaryAndJSON(t *testing.T) {
	r := Detect(termuxPhone().build(t))
	sum, _ := json.Marshal(r.Summary())
	want := `{"android":true,"android_version":"14","arch":"arm64","os":"android","proot":false,"supervisor":"none","termux":true}`
	if string(sum) != want {
		t.Errorf("Summary() = %s, want %s", sum, want)
	}
	if sum, _ := json.Marshal(Detect(Env{GOOS: "linux"}).Summary()); strings.Contains(string(sum), "android_version") {
		t.Errorf("android_version present without a version: %s", sum)
	}

	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Cgroup.UID != 10190 || back.AndroidVersion != "14" || !slices.Equal(back.Termux.Evidence, r.Termux.Evidence) {
		t.Errorf("JSON round trip lost data: %s", data)
	}
	for _, key := range []string{`"termux":{"value":true,"evidence":[`, `"supervisor":"none"`, `"app":"top-app"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON lacks %s: %s", key, data)
		}
	}
}

func TestCurrent(t *testing.T) {
	r := Current()
	if r.GOOS != runtime.GOOS || r.GOARCH != runtime.GOARCH {
		t.Errorf("Current() = %s/%s", r.GOOS, r.GOARCH)
	}
	if s, why := r.Strategy("auto"); s == "" || why == "" {
		t.Errorf("Strategy = %q, %q", s, why)
	}
	checkText(t, r)
}

// modes are the restart_mode values, and one that is not.
var modes = []string{"auto", "", string(health.StrategyExec), string(health.StrategyDelayed), string(health.StrategySupervisor), "bogus"}
