package handoff

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestStripHandoff(t *testing.T) {
	env := []string{
		"HOME=/h", ListenFD + "=3", ListenPID + "=42", PIDFileFD + "=4", RestartOf + "=20260101T000000.000000Z-42",
		SystemdListenFDs + "=1", SystemdListenPID + "=42", SystemdListenFDNames + "=http",
		WatchdogRestarts + "=2", WatchdogPrevExit + "=1", WatchdogLoop + "=detached", Updating + "=1",
		"WEBUI_ADDR=127.0.0.1:1", StraceRestart + "=1", "WEBUI_LISTEN_FDX=keep", "LISTEN_FDS_EXTRA=keep", "PATH=/bin", "NOEQUALS", "=x",
	}
	orig := slices.Clone(env)
	got := StripHandoff(env)
	want := []string{"HOME=/h", "WEBUI_ADDR=127.0.0.1:1", StraceRestart + "=1", "WEBUI_LISTEN_FDX=keep", "LISTEN_FDS_EXTRA=keep", "PATH=/bin", "NOEQUALS", "=x"}
	if !slices.Equal(got, want) {
		t.Errorf("StripHandoff:\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(env, orig) {
		t.Errorf("StripHandoff changed its argument: %q", env)
	}
	if got := StripHandoff(nil); len(got) != 0 {
		t.Errorf("StripHandoff(nil) = %q", got)
	}
	// A bare name (no "=") is a name too: what os.Environ never yields,
	// but a hand-written Env might.
	if got := StripHandoff([]string{ListenFD}); len(got) != 0 {
		t.Errorf("bare %s kept: %q", ListenFD, got)
	}
}

func TestListenerIsHandoff(t *testing.T) {
	for _, n := range Listener {
		if !slices.Contains(Names, n) {
			t.Errorf("%s is consumed at start-up but not stripped", n)
		}
	}
	if slices.Contains(Names, StraceRestart) {
		t.Errorf("%s is a debugging switch that restarts keep", StraceRestart)
	}
}

// The shell scripts cannot import the names: hold them to the same ones.
func TestScriptsUseTheNames(t *testing.T) {
	for file, names := range map[string][]string{
		"../../scripts/watchdog-loop.sh":  {WatchdogLoop, WatchdogRestarts, WatchdogPrevExit},
		"../../packaging/termux/postinst": {Updating},
		"../../packaging/linux/postinst":  {Updating},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.Contains(string(b), "${"+n+":-}") && !strings.Contains(string(b), n+"=") {
				t.Errorf("%s does not use %s", file, n)
			}
		}
	}
}
