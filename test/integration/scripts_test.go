package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The launchers run from a clone on Linux as their own commands: the tree
// gives them #!/bin/sh (mkdeb gives the Termux packages Termux's shell).
func TestLaunchersRunAsCommands(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"start-webui.sh", "watchdog-loop.sh"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(b), "\n"); first != "#!/bin/sh" {
			t.Errorf("scripts/%s starts with %q, want #!/bin/sh", s, first)
		}
	}
	e := ctlNewEnv(t, "", "WEBUI_BIN="+binary)
	run := func(script string, args ...string) string {
		cmd := exec.Command(filepath.Join(repoRoot, "scripts", script), append(e.settings(), args...)...)
		cmd.Env = e.environ()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	if out := run("start-webui.sh"); !strings.Contains(out, "webui started") {
		t.Fatalf("start-webui.sh said %q", out)
	}
	if out := run("watchdog-loop.sh", "--interval", "10m"); !strings.Contains(out, "running in the background") {
		t.Fatalf("watchdog-loop.sh said %q", out)
	}
	ctlEventually(t, 10*time.Second, "the watchdog runs", func() bool { return e.watchdogPID() != 0 })
	e.mustRun(0, []string{"ctl", "stop", "--watchdog"})
}

// The README's Termux:Boot script for proot-distro: a wake lock first, then
// a login into the distro that starts webui and keeps the watchdog loop in
// the foreground (proot-distro login ends the distro's processes when its
// command returns). Run against stand-ins that record what they see.
func TestProotBootScript(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- proot-boot -->\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no <!-- proot-boot --> script")
	}
	script := string(m[1])
	if first, _, _ := strings.Cut(script, "\n"); first != "#!/data/data/com.termux/files/usr/bin/sh" {
		t.Errorf("it runs in Termux, so it needs Termux's shell: %q", first)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	log := filepath.Join(dir, "calls")
	os.MkdirAll(bin, 0o755)
	stub := func(name, body string) {
		os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755)
	}
	stub("termux-wake-lock", `echo wake-lock >>"$CALLS"`)
	// proot-distro login DISTRO -- CMD...: run CMD as the distro would.
	stub("proot-distro", `[ "$1" = login ] && [ "$3" = -- ] || { echo "bad args: $*" >>"$CALLS"; exit 2; }
echo "login $2" >>"$CALLS"; shift 3; "$@"; echo "login returned $?" >>"$CALLS"`)
	stub("start-webui", `echo start-webui >>"$CALLS"`)
	stub("webui-watchdog-loop", `echo "loop foreground=$WEBUI_WATCHDOG_LOOP" >>"$CALLS"`)
	path := filepath.Join(dir, "boot")
	os.WriteFile(path, []byte(script), 0o755)
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CALLS="+log)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("boot script: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(log)
	want := "wake-lock\nlogin ubuntu\nstart-webui\nloop foreground=detached\nlogin returned 0\n"
	if string(calls) != want {
		t.Fatalf("boot script calls:\n%s\nwant:\n%s", calls, want)
	}
}
