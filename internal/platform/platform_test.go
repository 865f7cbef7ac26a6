package platform

import (
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/health"
)

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
	r := Detect(CurrentEnv())
	if r.GOOS != runtime.GOOS || r.GOARCH != runtime.GOARCH {
		t.Errorf("Detect(CurrentEnv()) = %s/%s", r.GOOS, r.GOARCH)
	}
	if s, why := r.Strategy("auto"); s == "" || why == "" {
		t.Errorf("Strategy = %q, %q", s, why)
	}
	checkText(t, r)
}

// modes are the restart_mode values, and one that is not.
var modes = []string{"auto", "", string(health.StrategyExec), string(health.StrategyDelayed), string(health.StrategySupervisor), "bogus"}
