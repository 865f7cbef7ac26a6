package restart

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/platform"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// newRecorder is a lifetime record in a temp state dir.
func newRecorder(t *testing.T) *diag.Recorder {
	t.Helper()
	rec, err := diag.Install(diag.Options{StateDir: t.TempDir(), Enabled: true, Keep: 10, MaxBytes: 1 << 20})
	t.Cleanup(func() {
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		diag.SetPanicReporter(nil)
	})
	if err != nil || rec.ID() == "" {
		t.Fatalf("recorder: %v", err)
	}
	return rec
}

// events reads a record: one map per line.
func events(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("record line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// eventNames are the "event" (or, for helper steps, "helper:step") names.
func eventNames(evs []map[string]any) []string {
	var names []string
	for _, e := range evs {
		n, _ := e["event"].(string)
		if s, ok := e["step"].(string); ok {
			n += ":" + s
		}
		names = append(names, n)
	}
	return names
}

func listen(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := serve(ln, "test")
	t.Cleanup(s.close)
	return s
}

func get(addr string) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func cloexec(t *testing.T, fd int) bool {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("fcntl fd %d: %v", fd, err)
	}
	return fl&unix.FD_CLOEXEC != 0
}

func envMap(env []string) map[string][]string {
	m := map[string][]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = append(m[k], v)
	}
	return m
}

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func testConfig(t *testing.T) *config.Config {
	return &config.Config{RunDir: t.TempDir(), RestartDelay: 3 * time.Second, RestartSurvive: 2 * time.Second, RestartAttempts: 4}
}

// Which strategy runs follows from the platform and restart_mode, and each
// strategy ends the restart its own way.
func TestStrategyForPlatform(t *testing.T) {
	linux := platform.Report{Supervisor: health.SupervisorNone}
	android := platform.Report{Supervisor: health.SupervisorNone, Android: platform.Fact{Value: true, Evidence: []string{"env ANDROID_ROOT=/system"}}}
	docker := platform.Report{Supervisor: health.SupervisorDocker}
	systemd := platform.Report{Supervisor: health.SupervisorSystemd}
	runitAndroid := android
	runitAndroid.Supervisor = health.SupervisorRunit

	cases := []struct {
		name   string
		report platform.Report
		mode   string
		want   health.Strategy
	}{
		{"linux auto", linux, "auto", "exec"},
		{"linux unknown mode is auto", linux, "sideways", "exec"},
		{"container", docker, "", "exec"},
		{"android", android, "auto", "delayed"},
		{"systemd", systemd, "auto", "supervisor"},
		{"runit on android", runitAndroid, "auto", "supervisor"},
		{"android told exec", android, "exec", "exec"},
		{"linux told delayed", linux, "delayed", "delayed"},
		{"systemd told exec", systemd, "EXEC", "exec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			strategy, why := c.report.Strategy(c.mode)
			if strategy != c.want || why == "" {
				t.Fatalf("Strategy(%q) = %q (%q), want %q", c.mode, strategy, why, c.want)
			}
			cfg := testConfig(t)
			srv := listen(t)
			var execed bool
			e := &Engine{Strategy: strategy, Android: c.report.Android.Value, Config: cfg, Recorder: newRecorder(t),
				Log: &logger{}, Exe: testExe(t), Args: []string{"webui", "serve"}, Env: []string{},
				Watchdog: func() bool { return true },
				exec:     func(string, []string, []string) error { execed = true; return errors.New("no exec in this test") },
				lead:     func() {}}
			res, err := e.Restart(context.Background(), "test", srv.Handoff)
			_, statErr := os.Stat(paths.Run(cfg.RunDir).NotBefore())
			_, intent := schedule.ReadIntent(cfg.RunDir)
			switch c.want {
			case "exec":
				if !execed || err == nil || res.Exit {
					t.Errorf("exec: execed %v, res %+v, err %v", execed, res, err)
				}
			case "delayed":
				if execed || err != nil || !res.Exit || res.Code != exitcode.OK || !intent {
					t.Errorf("delayed: execed %v, res %+v, err %v, intent %v", execed, res, err, intent)
				}
			case "supervisor":
				if execed || err != nil || !res.Exit || res.Code != exitcode.Restart {
					t.Errorf("supervisor: execed %v, res %+v, err %v", execed, res, err)
				}
				if (statErr == nil) != c.report.Android.Value {
					t.Errorf("supervisor: notbefore file exists = %v on android = %v", statErr == nil, c.report.Android.Value)
				}
			}
			if c.want != "delayed" && intent {
				t.Errorf("%s left a delayed restart's intent", c.want)
			}
		})
	}
}

// A restart into a binary that cannot run is refused before anything
// stops: the server never drains.
func TestRestartRefusesBadBinary(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, exe, strategy, want string }{
		{"missing", filepath.Join(dir, "gone"), "exec", "restart binary"},
		{"not executable", plain, "delayed", "not an executable file"},
		{"directory", dir, "supervisor", "not an executable file"},
		{"unknown strategy", testExe(t), "teleport", `unknown restart strategy "teleport"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := listen(t)
			e := &Engine{Strategy: health.Strategy(c.strategy), Config: testConfig(t), Log: &logger{}, Exe: c.exe,
				exec: func(string, []string, []string) error { t.Error("exec called"); return errors.New("x") }}
			res, err := e.Restart(context.Background(), "test", srv.Handoff)
			if err == nil || !strings.Contains(err.Error(), c.want) || res.Exit {
				t.Fatalf("Restart = %+v, %v; want an error with %q", res, err, c.want)
			}
			if len(srv.drains) != 0 {
				t.Errorf("drained %v before refusing", srv.drains)
			}
			if err := get(srv.Addr); err != nil {
				t.Errorf("not serving after the refusal: %v", err)
			}
		})
	}
}

// What the exec strategy hands the new image, and how a failed exec
// leaves the server: serving on the same socket, the pid file lock no
// longer leaking into children, the record saying it resumed.
func TestExecHandsOverAndResumes(t *testing.T) {
	srv := listen(t)
	rec := newRecorder(t)
	pf, err := proc.Acquire(filepath.Join(t.TempDir(), "webui.pid"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Release()
	pidFD := int(pf.File().Fd())
	exe := testExe(t)
	args := []string{exe, "serve", "--addr", srv.Addr}
	var gotPath string
	var gotArgs, gotEnv []string
	var listenCloexec, pidCloexec bool
	var listenAddr string
	e := &Engine{Strategy: "exec", Config: testConfig(t), Recorder: rec, PIDFile: pf, Log: &logger{}, Exe: exe, Args: args,
		Env: []string{"HOME=/home/u", handoff.ListenFD + "=99", handoff.ListenPID + "=1", handoff.RestartOf + "=old", handoff.PIDFileFD + "=98",
			"LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=web", "WEBUI_ADDR=" + srv.Addr},
		exec: func(path string, argv, env []string) error {
			gotPath, gotArgs, gotEnv = path, argv, env
			m := envMap(env)
			if fd, err := strconv.Atoi(first(m[handoff.ListenFD])); err == nil {
				listenCloexec = cloexec(t, fd)
				if sa, err := unix.Getsockname(fd); err == nil {
					if in, ok := sa.(*unix.SockaddrInet4); ok {
						listenAddr = net.JoinHostPort(net.IP(in.Addr[:]).String(), strconv.Itoa(in.Port))
					}
				}
			}
			pidCloexec = cloexec(t, pidFD)
			return syscall.ENOEXEC
		}}
	res, err := e.Restart(context.Background(), "update", srv.Handoff)
	if !errors.Is(err, syscall.ENOEXEC) || res.Exit {
		t.Fatalf("Restart = %+v, %v; want the exec's error and no exit", res, err)
	}
	if gotPath != exe || !slices.Equal(gotArgs, args) {
		t.Errorf("exec(%q, %q), want (%q, %q)", gotPath, gotArgs, exe, args)
	}
	m := envMap(gotEnv)
	want := map[string]string{
		handoff.ListenPID: strconv.Itoa(os.Getpid()),
		handoff.RestartOf: rec.ID(),
		handoff.PIDFileFD: strconv.Itoa(pidFD),
		"HOME":            "/home/u",
		"WEBUI_ADDR":      srv.Addr,
		"LISTEN_FDS":      "",
		"LISTEN_PID":      "",
		"LISTEN_FDNAMES":  "",
	}
	for k, v := range want {
		if got := m[k]; (v == "" && len(got) != 0) || (v != "" && !slices.Equal(got, []string{v})) {
			t.Errorf("new image's %s = %q, want %q", k, got, v)
		}
	}
	if fds := m[handoff.ListenFD]; len(fds) != 1 || fds[0] == "99" {
		t.Errorf("new image's %s = %q, want the one listener fd", handoff.ListenFD, fds)
	}
	if listenCloexec || pidCloexec {
		t.Errorf("at exec: listener close-on-exec %v, pid file close-on-exec %v; both must be inherited", listenCloexec, pidCloexec)
	}
	if listenAddr != srv.Addr {
		t.Errorf("the fd handed over listens on %q, want %q", listenAddr, srv.Addr)
	}
	// The failed exec is undone.
	if !slices.Equal(srv.drains, []bool{true}) || srv.resumes != 1 {
		t.Errorf("drains %v, resumes %d; want one keeping drain and one resume", srv.drains, srv.resumes)
	}
	if err := get(srv.Addr); err != nil {
		t.Errorf("not serving after the failed exec: %v", err)
	}
	if !cloexec(t, pidFD) {
		t.Error("the pid file fd stays inheritable after the failed exec: every child would hold the lock")
	}
	evs := events(t, rec.Path())
	names := eventNames(evs)
	i := slices.Index(names, diag.EvPreRestart)
	if i < 0 || !slices.Equal(names[i:], []string{diag.EvPreRestart, diag.EvExit, diag.EvResumed}) {
		t.Fatalf("record events %v, want pre-restart, exit, resumed at the end", names)
	}
	if evs[i]["strategy"] != "exec" || evs[i]["reason"] != "update" || evs[i]["exe"] != exe {
		t.Errorf("pre-restart event %v", evs[i])
	}
	if r := evs[len(evs)-1]["detail"].(string); !strings.Contains(r, "exec "+exe+" failed") {
		t.Errorf("resumed detail %q", r)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// When the exec fails and the socket cannot be served again, the process
// must exit with a failure rather than linger deaf.
func TestExecFailedAndResumeFailed(t *testing.T) {
	srv := listen(t)
	srv.Resume = func(f *os.File) error { f.Close(); return errors.New("socket gone") }
	e := &Engine{Strategy: "exec", Config: testConfig(t), Log: &logger{}, Exe: testExe(t), Args: []string{"webui"}, Env: []string{},
		exec: func(string, []string, []string) error { return syscall.ENOENT }}
	res, err := e.Restart(context.Background(), "test", srv.Handoff)
	if err != nil || !res.Exit || res.Code != exitcode.Failure || !strings.Contains(res.Detail, "socket gone") {
		t.Fatalf("Restart = %+v, %v; want an exit with code %d", res, err, exitcode.Failure)
	}
}

// The exec strategy for real: a server process restarts with
// syscall.Exec. The new image has the same pid, takes the listening
// socket and the locked pid file over, knows which lifetime it follows,
// and no client is refused meanwhile.
func TestExecRestartRealProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(testExe(t))
	cmd.Env = append(os.Environ(), envRole+"=exec-old", envDir+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no address from the server: %v (%s)", err, stderr.String())
	}
	addr, id, _ := strings.Cut(strings.TrimSpace(line), " ")

	who := func() (argvReport, error) {
		var r argvReport
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + addr + "/who")
		if err != nil {
			return r, err
		}
		defer resp.Body.Close()
		return r, json.NewDecoder(resp.Body).Decode(&r)
	}
	before, err := who()
	if err != nil || before.Image != "old" {
		t.Fatalf("before the restart: %+v, %v", before, err)
	}
	if _, err := io.WriteString(stdin, "restart\n"); err != nil {
		t.Fatal(err)
	}
	var after argvReport
	for deadline := time.Now().Add(10 * time.Second); ; {
		r, err := who()
		if err != nil {
			t.Fatalf("a client failed during the restart: %v (%s)", err, stderr.String())
		}
		if r.Image == "new" {
			after = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new image never answered (%s)", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if after.PID != before.PID || after.PID != cmd.Process.Pid {
		t.Errorf("pid %d after the restart, %d before: exec keeps the pid", after.PID, before.PID)
	}
	if want := []string{after.Args[0], "serve", "--addr", addr}; !slices.Equal(after.Args, want) {
		t.Errorf("new image's argv %q, want %q", after.Args, want)
	}
	env := envMap(after.Env)
	if got := env[handoff.RestartOf]; !slices.Equal(got, []string{id}) {
		t.Errorf("%s = %q, want the old lifetime %q", handoff.RestartOf, got, id)
	}
	if !slices.Equal(env["KEEP_ME"], []string{"1"}) || len(env["LISTEN_FDNAMES"]) != 0 || !slices.Equal(env[handoff.ListenPID], []string{strconv.Itoa(after.PID)}) {
		t.Errorf("new image's environment %q", after.Env)
	}
	if !after.Adopted {
		t.Error("the new image did not adopt the locked pid file fd: the lock was dropped during the exec")
	}
	if after.ListenEnv != "" {
		t.Errorf("handoff variables still set after taking them over: %q", after.ListenEnv)
	}
	if pid, held, err := proc.Read(filepath.Join(dir, "webui.pid")); err != nil || !held || pid != after.PID {
		t.Errorf("pid file: pid %d, held %v, %v; want %d held", pid, held, err, after.PID)
	}
	evs := events(t, paths.State(dir).Lifetimes().Record(id))
	names := eventNames(evs)
	if n := len(names); n < 2 || names[n-2] != diag.EvPreRestart || names[n-1] != diag.EvExit {
		t.Fatalf("old lifetime's events %v, want pre-restart then exit last", names)
	}
	if last := evs[len(evs)-1]; last["reason"] != string(diag.ReasonRestart) || (last["code"] != nil && last["code"] != 0.0) {
		t.Errorf("exit event %v", last)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get("http://" + addr + "/quit"); err == nil {
		resp.Body.Close()
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("new image exit: %v (%s)", err, stderr.String())
	}
}
