package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	iproc "github.com/termux-webui/webui/internal/proc"
)

// TestLaunchersSurviveSIGHUP starts webui with scripts/start-webui.sh and
// scripts/watchdog-loop.sh from a shell in its own session, then hangs up
// on that session: the server, the watchdog and its loop live on.
func TestLaunchersSurviveSIGHUP(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "", "WEBUI_BIN="+binary)
	flags := strings.Join(e.settings(), " ")
	script := fmt.Sprintf(`sh %s/scripts/start-webui.sh %s && sh %s/scripts/watchdog-loop.sh %s --interval 200ms --timeout 300ms && echo launched; exec sleep 60`,
		repoRoot, flags, repoRoot, flags)
	sh := exec.Command("setsid", "sh", "-c", script)
	sh.Env = e.environ()
	out := &syncBuffer{}
	sh.Stdout, sh.Stderr = out, out
	if err := startHangupable(sh); err != nil {
		t.Fatal(err)
	}
	shDone := make(chan struct{})
	go func() { _ = sh.Wait(); close(shDone) }()
	t.Cleanup(func() { _ = sh.Process.Kill(); <-shDone })
	ctlEventually(t, 20*time.Second, "the launchers finish", func() bool { return strings.Contains(out.String(), "launched") })
	t.Logf("launchers said:\n%s", out.String())
	server := e.waitHealth(5*time.Second, nil)
	ctlEventually(t, 5*time.Second, "the watchdog runs", func() bool { return e.watchdogPID() != 0 })
	wd := e.watchdogPID()
	loop, _ := ctlStat(wd)
	_, shSession := ctlStat(sh.Process.Pid)
	for name, pid := range map[string]int{"server": server.PID, "watchdog": wd, "loop": loop} {
		if _, s := ctlStat(pid); s == shSession || s == 0 {
			t.Errorf("%s (pid %d) is in the launching session %d", name, pid, s)
		}
	}

	// Hang up: the launching shell's process group, and the daemons too.
	// The shell's death is read from /proc: Wait also waits for every
	// holder of its output pipe, and a failure must say which it was.
	ctlKill(t, -sh.Process.Pid, syscall.SIGHUP)
	const within = 20 * time.Second
	if st := shellAfterHangup(sh.Process.Pid, shDone, within); st != "" {
		t.Fatalf("the launching shell outlived SIGHUP by %s: %s", within, st)
	}
	ctlKill(t, server.PID, syscall.SIGHUP)
	ctlKill(t, wd, syscall.SIGHUP)
	time.Sleep(time.Second)
	if h, err := e.health(); err != nil || h.PID != server.PID {
		t.Fatalf("the server did not survive SIGHUP: %v", err)
	}
	if e.watchdogPID() != wd || !iproc.Alive(loop) {
		t.Fatalf("watchdog %d (now %d) or loop %d did not survive SIGHUP", wd, e.watchdogPID(), loop)
	}
	if lt := e.lifetimeOf(server.PID); !strings.Contains(strings.Join(lt.Signals, " "), "SIGHUP") {
		t.Errorf("no SIGHUP in the server's record: %v", lt.Signals)
	}

	// The loop brings a dead watchdog back...
	ctlKill(t, wd, syscall.SIGKILL)
	ctlEventually(t, 10*time.Second, "the loop restarts the watchdog", func() bool { p := e.watchdogPID(); return p != 0 && p != wd })
	if !strings.Contains(e.watchdogLog(), "started again by webui-watchdog-loop") {
		t.Errorf("watchdog log:\n%s", e.watchdogLog())
	}
	// ...and ends with a watchdog stopped on purpose.
	if out := e.mustRun(0, []string{"ctl", "stop", "--watchdog"}); !strings.Contains(out, "watchdog stopped") {
		t.Errorf("stop --watchdog: %q", out)
	}
	ctlEventually(t, 5*time.Second, "the loop ends", func() bool { return !iproc.Alive(loop) })
	if _, err := e.health(); err == nil {
		t.Error("the server still answers after ctl stop")
	}
}

func TestBootEnableDisable(t *testing.T) {
	t.Parallel()
	e := ctlNewEnv(t, "")
	home := e.path("home")
	env := []string{"HOME=" + home}
	boot := func(want int, sub string) (string, string) {
		t.Helper()
		c := exec.Command(binary, "boot", sub)
		c.Env = append(e.environ(), env...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != want {
			t.Fatalf("boot %s: exit %d, want %d\n%s%s", sub, code, want, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	script := filepath.Join(home, ".termux", "boot", "webui")
	if out, errOut := boot(3, "status"); !strings.Contains(out, "disabled") || errOut != "" {
		t.Errorf("status: %q %q", out, errOut)
	}
	out, errOut := boot(0, "enable")
	if !strings.Contains(out, "enabled: "+script) || !strings.Contains(errOut, "not Termux") {
		t.Errorf("enable: %q %q", out, errOut)
	}
	got, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(repoRoot, "packaging/termux/boot/webui"))
	if !bytes.Equal(got, want) {
		t.Errorf("boot script differs from packaging/termux/boot/webui:\n%s", got)
	}
	if st, _ := os.Stat(script); st.Mode().Perm() != 0o755 {
		t.Errorf("boot script mode %v", st.Mode())
	}
	if out, _ := boot(0, "status"); !strings.HasPrefix(out, "enabled: "+script+"\n") {
		t.Errorf("status: %q", out)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho mine\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, _ := boot(0, "status"); !strings.Contains(out, "differs") {
		t.Errorf("status of an edited script: %q", out)
	}
	if out, _ := boot(0, "disable"); !strings.Contains(out, "removed") {
		t.Errorf("disable: %q", out)
	}
	if _, err := os.Stat(script); !os.IsNotExist(err) {
		t.Errorf("script still there: %v", err)
	}
	boot(3, "status")
	if out, _ := boot(0, "disable"); !strings.Contains(out, "already disabled") {
		t.Errorf("disable again: %q", out)
	}
	boot(2, "sideways")
}

// TestCtlScriptsShellcheck: the launchers and the Termux service and boot
// scripts are POSIX sh that shellcheck finds nothing in.
func TestCtlScriptsShellcheck(t *testing.T) {
	t.Parallel()
	scripts := []string{"scripts/start-webui.sh", "scripts/watchdog-loop.sh", "packaging/termux/service/run",
		"packaging/termux/service/finish", "packaging/termux/service/log/run", "packaging/termux/boot/webui"}
	for _, s := range scripts {
		p := filepath.Join(repoRoot, s)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
		b, _ := os.ReadFile(p)
		// scripts/ run from a clone anywhere (mkdeb gives the Termux
		// packages Termux's sh); packaging/termux/ runs only on Termux.
		want := "#!/data/data/com.termux/files/usr/bin/sh\n"
		if strings.HasPrefix(s, "scripts/") {
			want = "#!/bin/sh\n"
		}
		if !bytes.HasPrefix(b, []byte(want)) {
			t.Errorf("%s: %q, want %q", s, strings.SplitN(string(b), "\n", 2)[0], strings.TrimSpace(want))
		}
		if dash, err := exec.LookPath("dash"); err == nil {
			if out, err := exec.Command(dash, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("dash -n %s: %v\n%s", s, err, out)
			}
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is missing (scripts/test-deps.sh installs it)")
		}
		t.Skip("shellcheck is missing: skipped")
	}
	cmd := exec.Command(sc, append([]string{"--shell=sh", "--severity=style"}, scripts...)...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// shellAfterHangup waits for pid, hung up, to die and be reaped; it returns
// "" then, or what /proc says of pid when it did not within d.
func shellAfterHangup(pid int, reaped <-chan struct{}, d time.Duration) string {
	select {
	case <-reaped:
		return ""
	case <-time.After(d):
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "it is gone, but Wait has not returned: another process holds its output pipe"
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"Name:", "State:", "SigPnd:", "ShdPnd:", "SigBlk:", "SigIgn:"} {
			if strings.HasPrefix(l, k) {
				keep = append(keep, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return strings.Join(keep, "; ")
}

// startHangupable starts c with SIGHUP at its default action. A test run
// that inherited SIGHUP ignored (under nohup, or a CI runner that ignores
// it) passes that on across exec, and a shell that started with it ignored
// cannot even trap it back: it would outlive the hangup this test sends.
// A caught signal is reset by exec, so it is caught while c starts. Always:
// signal.Ignored cannot be asked, as it turns false once anything in this
// process has caught SIGHUP, though the ignoring comes back after.
func startHangupable(c *exec.Cmd) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup) // back to what it was
	return c.Start()
}
