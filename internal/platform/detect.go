package platform

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
)

// maxRawLines bounds Cgroup.Raw.
const maxRawLines = 64

// androidApps are the Android scheduling groups seen in the cpuset and
// schedtune hierarchies. None of them exists on a desktop Linux.
var androidApps = map[string]bool{
	"top-app":           true,
	"foreground":        true,
	"background":        true,
	"system-background": true,
	"restricted":        true,
	"camera-daemon":     true,
	"foreground_window": true,
}

// containerInits are the programs container runtimes put at pid 1.
var containerInits = map[string]bool{
	"docker-init": true,
	"tini":        true,
	"dumb-init":   true,
	"catatonit":   true,
}

// Detect gathers the facts visible through e. It never fails: whatever it
// cannot read simply leaves the matching fact false.
func Detect(e Env) Report {
	d := detector{e: e}
	r := Report{GOOS: e.GOOS, GOARCH: e.GOARCH, Supervisor: health.SupervisorNone}

	cgroupData, _ := d.readProc("self/cgroup")
	lines := parseCgroup(cgroupData)
	r.Cgroup.Raw = rawLines(lines)

	r.Termux = d.termux()
	if r.Termux.Value {
		r.Prefix = d.termuxPrefix()
	}
	r.Android = d.android(lines, &r)
	r.PRoot = d.proot()
	r.Supervisor, r.SupervisorEvidence = d.supervisor(lines)
	return r
}

type detector struct{ e Env }

func (d detector) getenv(name string) string {
	if d.e.Getenv == nil {
		return ""
	}
	return d.e.Getenv(name)
}

// readProc reads <ProcRoot>/<rel>.
func (d detector) readProc(rel string) ([]byte, bool) {
	if d.e.ProcRoot == "" {
		return nil, false
	}
	return readSmall(filepath.Join(d.e.ProcRoot, rel))
}

// readFS reads <FSRoot>/<rel>.
func (d detector) readFS(rel string) ([]byte, bool) {
	if d.e.FSRoot == "" {
		return nil, false
	}
	return readSmall(filepath.Join(d.e.FSRoot, rel))
}

// existsFS reports whether <FSRoot>/<rel> exists (whatever its type).
func (d detector) existsFS(rel string) bool {
	if d.e.FSRoot == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(d.e.FSRoot, rel))
	return err == nil
}

// procName is the command name of pid, from <ProcRoot>/<pid>/comm or else
// the Name: line of its status file, and the file it came from. "" when
// unknown.
func (d detector) procName(pid int) (name, source string) {
	if pid <= 0 {
		return "", ""
	}
	p := strconv.Itoa(pid)
	if data, ok := d.readProc(p + "/comm"); ok {
		if n := strings.TrimRight(string(data), "\n"); n != "" {
			return clip(n), "/proc/" + p + "/comm"
		}
	}
	if data, ok := d.readProc(p + "/status"); ok {
		if n, ok := statusField(data, "Name"); ok && n != "" {
			return clip(n), "/proc/" + p + "/status"
		}
	}
	return "", ""
}

func (d detector) termux() Fact {
	var f Fact
	if v := d.getenv("TERMUX_VERSION"); v != "" {
		f.Evidence = append(f.Evidence, "env TERMUX_VERSION="+clip(v))
	}
	if p := d.getenv("PREFIX"); strings.Contains(p, "/com.termux/") {
		f.Evidence = append(f.Evidence, "env PREFIX="+clip(p))
	}
	if exe := d.exe(); isTermuxPath(exe) {
		f.Evidence = append(f.Evidence, "/proc/self/exe -> "+clip(exe))
	}
	f.Value = len(f.Evidence) > 0
	return f
}

// exe is the target of <ProcRoot>/self/exe without the " (deleted)" suffix
// the kernel adds once the binary was replaced.
func (d detector) exe() string {
	if d.e.ProcRoot == "" {
		return ""
	}
	exe, err := os.Readlink(filepath.Join(d.e.ProcRoot, "self", "exe"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(exe, " (deleted)")
}

func isTermuxPath(p string) bool {
	return strings.HasPrefix(p, "/data/data/com.termux/") ||
		strings.HasPrefix(p, "/data/user/0/com.termux/")
}

// termuxPrefix follows internal/paths so the paths and the report agree.
func (d detector) termuxPrefix() string {
	if p, ok := paths.TermuxPrefixFrom(d.getenv); ok {
		return p
	}
	return paths.TermuxPrefix
}

func (d detector) android(lines []cgroupLine, r *Report) Fact {
	var f Fact
	cg, ev := androidCgroup(lines)
	r.Cgroup.App, r.Cgroup.UID, r.Cgroup.PID = cg.App, cg.UID, cg.PID
	f.Evidence = append(f.Evidence, ev...)
	if d.e.GOOS == "android" {
		f.Evidence = append(f.Evidence, "GOOS=android")
	}
	for _, k := range []string{"ANDROID_ROOT", "ANDROID_DATA"} {
		if v := d.getenv(k); v != "" {
			f.Evidence = append(f.Evidence, "env "+k+"="+clip(v))
		}
	}
	if data, ok := d.readFS("system/build.prop"); ok {
		key, v := androidRelease(data)
		if v != "" {
			r.AndroidVersion = v
			f.Evidence = append(f.Evidence, "/system/build.prop: "+key+"="+v)
		} else {
			f.Evidence = append(f.Evidence, "/system/build.prop exists")
		}
	} else if d.existsFS("system/build.prop") {
		f.Evidence = append(f.Evidence, "/system/build.prop exists")
	}
	if len(f.Evidence) == 0 && r.Termux.Value {
		f.Evidence = append(f.Evidence, "Termux detected (an Android app)")
	}
	f.Value = len(f.Evidence) > 0
	return f
}

func (d detector) proot() Fact {
	data, ok := d.readProc("self/status")
	if !ok {
		return Fact{}
	}
	v, ok := statusField(data, "TracerPid")
	if !ok {
		return Fact{}
	}
	tracer, err := strconv.Atoi(v)
	if err != nil || tracer <= 0 {
		return Fact{}
	}
	name, source := d.procName(tracer)
	if !strings.Contains(strings.ToLower(name), "proot") {
		return Fact{}
	}
	return Fact{Value: true, Evidence: []string{
		"/proc/self/status: TracerPid: " + strconv.Itoa(tracer),
		source + ": " + name,
	}}
}

// supervisor decides who restarts the process when it exits. Priority:
// runit (the parent is runsv), systemd, a container, none.
func (d detector) supervisor(lines []cgroupLine) (string, []string) {
	parent, parentSource := d.procName(d.e.PPID)
	if parent == "runsv" {
		return health.SupervisorRunit, []string{"parent pid " + strconv.Itoa(d.e.PPID) + " is runsv, from " + parentSource}
	}

	// systemd: its variables are inherited by everything a unit starts,
	// including terminals started as user units and their shells, so they
	// count only when something says this process is a service's own.
	var vars, proof []string
	for _, k := range []string{"INVOCATION_ID", "NOTIFY_SOCKET", "JOURNAL_STREAM"} {
		if v := d.getenv(k); v != "" {
			vars = append(vars, "env "+k+"="+clip(v))
		}
	}
	if len(vars) > 0 {
		if v := d.getenv("SYSTEMD_EXEC_PID"); v != "" && d.e.PID > 0 && v == strconv.Itoa(d.e.PID) {
			proof = append(proof, "env SYSTEMD_EXEC_PID="+v+" is this process")
		}
		if parent == "systemd" {
			proof = append(proof, "parent pid "+strconv.Itoa(d.e.PPID)+" is systemd, from "+parentSource)
		}
		if l, ok := unitLine(lines); ok && strings.HasSuffix(l.path, ".service") {
			proof = append(proof, "/proc/self/cgroup: "+l.String())
		}
		if len(proof) > 0 {
			return health.SupervisorSystemd, append(vars, proof...)
		}
	}
	var ignored []string
	if len(vars) > 0 {
		why := "not a service's process"
		if parent != "" {
			why += ", parent is " + parent
		}
		if l, ok := unitLine(lines); ok {
			why += ", cgroup " + clip(l.path)
		}
		ignored = append(ignored, "ignored "+strings.Join(vars, ", ")+": inherited ("+why+")")
	}

	var docker []string
	if d.existsFS(".dockerenv") {
		docker = append(docker, "/.dockerenv exists")
	}
	if d.existsFS("run/.containerenv") {
		docker = append(docker, "/run/.containerenv exists")
	}
	inContainerCgroup := false
	for _, l := range lines {
		if containerPath(l.path) {
			docker = append(docker, "/proc/self/cgroup: "+l.String())
			inContainerCgroup = true
			break
		}
	}
	if d.e.PID == 1 {
		if l, ok := unitLine(lines); ok && l.path == "/" && !inContainerCgroup {
			docker = append(docker, "pid 1 with cgroup "+l.String()+" (a private cgroup namespace)")
		} else if inContainerCgroup {
			docker = append(docker, "pid 1")
		}
	} else if name, source := d.procName(1); containerInits[name] {
		docker = append(docker, source+": "+name)
	}
	if len(docker) > 0 {
		return health.SupervisorDocker, append(docker, ignored...)
	}
	return health.SupervisorNone, ignored
}

// cgroupLine is one "hierarchy-ID:controller-list:cgroup-path" line.
type cgroupLine struct {
	hier, controllers, path string
}

func (l cgroupLine) String() string {
	return clip(l.hier + ":" + l.controllers + ":" + l.path)
}

func (l cgroupLine) hasController(name string) bool {
	for _, c := range strings.Split(l.controllers, ",") {
		if c == name {
			return true
		}
	}
	return false
}

func parseCgroup(data []byte) []cgroupLine {
	var out []cgroupLine
	for _, s := range strings.Split(string(data), "\n") {
		s = strings.TrimRight(s, "\r")
		parts := strings.SplitN(s, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		out = append(out, cgroupLine{hier: parts[0], controllers: parts[1], path: parts[2]})
	}
	return out
}

func rawLines(lines []cgroupLine) []string {
	var raw []string
	for i, l := range lines {
		if i == maxRawLines {
			break
		}
		raw = append(raw, l.String())
	}
	return raw
}

// unitLine is the line that places the process in the service tree: the
// cgroup v2 "0::" line, else the v1 "name=systemd" line.
func unitLine(lines []cgroupLine) (cgroupLine, bool) {
	for _, l := range lines {
		if l.hier == "0" && l.controllers == "" {
			return l, true
		}
	}
	for _, l := range lines {
		if l.hasController("name=systemd") {
			return l, true
		}
	}
	return cgroupLine{}, false
}

// androidCgroup reads the Android layouts: the scheduling group from the
// cpuset (or, on older kernels, schedtune) line, and the app's uid and pid
// from "/uid_N/pid_M" or "/apps/uid_N/pid_M" (the 0:: line preferred).
func androidCgroup(lines []cgroupLine) (Cgroup, []string) {
	var cg Cgroup
	var ev []string
	for _, l := range lines {
		if uid, pid, ok := parseUIDPID(l.path); ok && l.hier == "0" && l.controllers == "" {
			cg.UID, cg.PID = uid, pid
			ev = append(ev, "/proc/self/cgroup: "+l.String())
			break
		}
	}
	if len(ev) == 0 { // cgroup v1 kernels put it in cpuacct
		for _, l := range lines {
			if uid, pid, ok := parseUIDPID(l.path); ok {
				cg.UID, cg.PID = uid, pid
				ev = append(ev, "/proc/self/cgroup: "+l.String())
				break
			}
		}
	}
	for _, ctrl := range []string{"cpuset", "schedtune"} {
		for _, l := range lines {
			if !l.hasController(ctrl) {
				continue
			}
			app, _, _ := strings.Cut(strings.TrimPrefix(l.path, "/"), "/")
			if androidApps[app] {
				cg.App = app
				return cg, append(ev, "/proc/self/cgroup: "+l.String())
			}
		}
	}
	return cg, ev
}

// parseUIDPID accepts "/uid_10179/pid_11869" and "/apps/uid_10190/pid_11887",
// with anything below.
func parseUIDPID(path string) (uid, pid int, ok bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) > 0 && segs[0] == "apps" {
		segs = segs[1:]
	}
	if len(segs) < 2 {
		return 0, 0, false
	}
	uid, ok1 := numberAfter(segs[0], "uid_")
	pid, ok2 := numberAfter(segs[1], "pid_")
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return uid, pid, true
}

func numberAfter(s, prefix string) (int, bool) {
	digits, found := strings.CutPrefix(s, prefix)
	if !found || digits == "" || len(digits) > 9 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// containerPath reports cgroup paths that container runtimes create:
// /docker/<id>, docker-<id>.scope, /kubepods/..., libpod-<id>.scope,
// cri-containerd-<id>.scope, /lxc/<name>.
func containerPath(path string) bool {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case (s == "docker" || s == "lxc" || s == "containerd") && !last && segs[i+1] != "":
			return true
		case strings.HasPrefix(s, "kubepods"):
			return true
		case strings.HasSuffix(s, ".scope") &&
			(strings.HasPrefix(s, "docker-") || strings.HasPrefix(s, "libpod-") || strings.HasPrefix(s, "cri-containerd-")):
			return true
		}
	}
	return false
}

// statusField finds "Key:\tvalue" in a /proc/<pid>/status file.
func statusField(data []byte, key string) (string, bool) {
	for _, s := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(s, key+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// androidRelease finds the Android release in a build.prop file.
func androidRelease(data []byte) (key, value string) {
	props := map[string]string{}
	for _, s := range strings.Split(string(data), "\n") {
		s = strings.TrimSpace(s)
		if s == "" || s[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(s, "="); ok {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, k := range []string{"ro.build.version.release", "ro.system.build.version.release", "ro.build.version.release_or_codename"} {
		if v := clipN(props[k], 32); v != "" {
			return k, v
		}
	}
	return "", ""
}

// clip makes a value read from the outside safe to print on one line:
// unprintable runes become '?', and long values are cut.
func clip(s string) string { return clipN(s, 160) }

func clipN(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("...")
			break
		}
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
