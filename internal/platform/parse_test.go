package platform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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
