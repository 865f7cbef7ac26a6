package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type doctorCheck struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Summary string `json:"summary"`
	Fix     string `json:"fix"`
	Value   any    `json:"value"`
}

// num is a numeric value (nil when there is none or it is not a number).
func (c doctorCheck) num() *float64 {
	if f, ok := c.Value.(float64); ok {
		return &f
	}
	return nil
}

// runDoctor is `webui doctor --json --offline` with env; it returns the
// checks by id.
func runDoctor(t *testing.T, env []string, args ...string) map[string]doctorCheck {
	t.Helper()
	code, out, stderr := runCLI(t, env, append([]string{"doctor", "--json", "--offline"}, args...)...)
	var doc struct {
		Checks []doctorCheck `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("doctor --json: exit %d: %v\n%s%s", code, err, out, stderr)
	}
	checks := map[string]doctorCheck{}
	failed := false
	for _, c := range doc.Checks {
		checks[c.ID] = c
		failed = failed || c.Status == "fail"
	}
	if want := map[bool]int{true: 1, false: 0}[failed]; code != want {
		t.Fatalf("doctor exit %d with failed=%v:\n%s%s", code, failed, out, stderr)
	}
	if len(checks) != 10 {
		t.Fatalf("doctor ran %d checks:\n%s", len(checks), out)
	}
	return checks
}

func wantCheck(t *testing.T, c doctorCheck, status string, words ...string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s: status %q, want %q: %s — fix: %s", c.ID, c.Status, status, c.Summary, c.Fix)
	}
	for _, w := range words {
		if !strings.Contains(c.Summary+" fix: "+c.Fix, w) {
			t.Errorf("%s lacks %q: %s — fix: %s", c.ID, w, c.Summary, c.Fix)
		}
	}
}

// TestFreezeSIGSTOP stops the real server for 8 s. The freeze must show in
// its lifetime record, `diagnose --id`, /health?deep=1 and the freezes
// check, measured as 8 ± 3 s.
func TestFreezeSIGSTOP(t *testing.T) {
	t.Parallel()
	p := start(t, opts{})
	pid := p.cmd.Process.Pid
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	inRange := func(s float64) bool { return s >= 5 && s <= 11 }

	// The record, as diagnose --id --json shows it.
	id := diagNewest(t, p.stateDir(), pid).ID
	var freezes []map[string]any
	waitFor(t, 5*time.Second, "a freeze event in the record", func() bool {
		freezes = diagDetail(t, p.stateDir(), id).events("freeze")
		return len(freezes) > 0
	})
	if len(freezes) != 1 {
		t.Fatalf("%d freeze events, want 1: %v", len(freezes), freezes)
	}
	ev := freezes[0]
	d, _ := ev["duration_s"].(float64)
	if ev["kind"] != "freeze" || !inRange(d) {
		t.Fatalf("freeze event %v: want kind freeze, 8 ± 3 s", ev)
	}
	at, err := time.Parse(time.RFC3339Nano, ev["at"].(string))
	if err != nil || at.Before(time.Now().Add(-30*time.Second)) || at.After(time.Now()) {
		t.Fatalf("freeze at %v (%v)", ev["at"], err)
	}
	var listed struct {
		Freezes []struct {
			Kind      string  `json:"kind"`
			DurationS float64 `json:"duration_s"`
		} `json:"freezes"`
	}
	_, out, _ := runDiagnose(t, p.stateDir(), "--json", "--id", id)
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Freezes) != 1 || listed.Freezes[0].DurationS != d {
		t.Fatalf("diagnose --id --json freezes: %+v (%v)", listed.Freezes, err)
	}

	// The text a person reads.
	code, text, stderr := runDiagnose(t, p.stateDir(), "--id", id)
	if code != 0 || !strings.Contains(text, "freezes:") || !strings.Contains(text, "Frozen for") || !strings.Contains(text, "[frozen or asleep 1×") {
		t.Fatalf("diagnose --id: exit %d\n%s%s", code, text, stderr)
	}

	// /health?deep=1 reports it; the shallow document does not change.
	resp, body, err := p.get("/health?deep=1")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status     string `json:"status"`
		LastFreeze *struct {
			Kind      string  `json:"kind"`
			DurationS float64 `json:"duration_s"`
		} `json:"last_freeze"`
	}
	if err := json.Unmarshal(body, &h); err != nil || resp.StatusCode != 200 || h.LastFreeze == nil ||
		h.LastFreeze.Kind != "freeze" || h.LastFreeze.DurationS != d {
		t.Fatalf("/health?deep=1: %d %s", resp.StatusCode, body)
	}
	if _, body, _ := p.get("/health"); strings.Contains(string(body), "last_freeze") {
		t.Fatalf("shallow /health: %s", body)
	}

	// The freezes check: warn, value = the longest in seconds.
	checks := runDoctor(t, nil, "--state-dir", p.stateDir(), "--run-dir", filepath.Join(p.dir, "run"), "--log-dir", filepath.Join(p.dir, "log"))
	c := checks["freezes"]
	wantCheck(t, c, "warn", "1 freeze in the last day", "Frozen for", "SIGSTOP")
	if c.num() == nil || *c.num() != d {
		t.Errorf("freezes value %v, want %v", c.Value, d)
	}
	// The server was not restarted by the freeze: still the same lifetime.
	if code, _ := p.health(false); code != 200 {
		t.Fatalf("health after the freeze: %d", code)
	}
}

// termuxEnv simulates Termux on this machine: PREFIX, TERMUX_VERSION, HOME
// and a getprop on PATH reporting Android 14 (SDK 34).
func termuxEnv(t *testing.T, dir string) []string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{bin, filepath.Join(dir, "usr", "etc"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub := "#!/bin/sh\n[ \"$1\" = ro.build.version.sdk ] && echo 34\n"
	if err := os.WriteFile(filepath.Join(bin, "getprop"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PREFIX=" + filepath.Join(dir, "usr"),
		"TERMUX_VERSION=0.118.1", "HOME=" + filepath.Join(dir, "home"), "SSL_CERT_FILE="}
}

// TestDoctorSimulatedTermux: on Android 14 in Termux, doctor warns about
// the phantom process killer and the missing boot script, with the fixes,
// and counts this user's processes against Android's 32.
func TestDoctorSimulatedTermux(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := termuxEnv(t, dir)
	checks := runDoctor(t, env)

	ph := checks["phantom"]
	wantCheck(t, ph, "warn", "SDK 34", "adb shell settings put global settings_enable_monitor_phantom_procs false", "Disable child process restrictions")
	if ph.num() == nil || *ph.num() != 34 {
		t.Errorf("phantom value %v, want 34", ph.Value)
	}
	wantCheck(t, checks["boot"], "warn", "no Termux:Boot script", "webui boot enable", "install Termux:Boot", "open it once")
	pr := checks["processes"]
	if pr.num() == nil || *pr.num() < 1 || !strings.Contains(pr.Summary, "32") {
		t.Errorf("processes: %+v", pr)
	} else if n := *pr.num(); (n >= 24) != (pr.Status == "warn") || (pr.Status == "warn" && !strings.Contains(pr.Fix, "phantom")) {
		t.Errorf("processes: %d counted, status %s, fix %q", int(n), pr.Status, pr.Fix)
	}
	// dns: this machine's /etc/resolv.conf (which Android lacks) is used
	// first, as the update client does; the unit tests cover its absence.
	wantCheck(t, checks["tls"], "warn", "pkg install ca-certificates")
	wantCheck(t, checks["watchdog"], "warn", "webui-watchdog-loop")

	// The fixes, applied: the boot script, resolv-conf, ca-certificates
	// and the phantom setting (readable through a settings command).
	if code, out, stderr := runCLI(t, env, "boot", "enable"); code != 0 {
		t.Fatalf("boot enable: %d %s%s", code, out, stderr)
	}
	write := func(rel, body string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/etc/resolv.conf", "nameserver 8.8.8.8\n", 0o644)
	pem, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		pem = []byte("-----BEGIN CERTIFICATE-----\n")
	}
	write("usr/etc/tls/cert.pem", string(pem), 0o644)
	write("bin/settings", "#!/bin/sh\n[ \"$3\" = settings_enable_monitor_phantom_procs ] && echo false\n", 0o755)
	checks = runDoctor(t, env)
	wantCheck(t, checks["phantom"], "ok", "is off")
	wantCheck(t, checks["boot"], "ok", "in place")
	wantCheck(t, checks["dns"], "ok", "skipped (asked to stay offline)")
	wantCheck(t, checks["tls"], "ok", "cert.pem")

	// The text report: one line per check, status first.
	code, out, _ := runCLI(t, env, "doctor", "--offline")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 10 || !strings.HasPrefix(lines[1], "ok    phantom") {
		t.Fatalf("doctor: exit %d\n%s", code, out)
	}
}

// TestDoctorPlainLinux: off Android the Android checks say so rather than guess.
func TestDoctorPlainLinux(t *testing.T) {
	t.Parallel()
	checks := runDoctor(t, nil)
	for _, id := range []string{"phantom", "boot", "services"} {
		wantCheck(t, checks[id], "ok", "not applicable here")
	}
	wantCheck(t, checks["processes"], "ok", "not applicable here")
	wantCheck(t, checks["freezes"], "ok", "no freeze")
	wantCheck(t, checks["watchdog"], "warn", "not running")
}
