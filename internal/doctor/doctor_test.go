package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/platform"
	"github.com/termux-webui/webui/internal/update"
)

// want is what a decision must produce: the status, and words the summary
// and the fix must contain.
type want struct {
	status  string
	summary []string
	fix     []string
	noFix   bool
}

func (w want) check(t *testing.T, c Check) {
	t.Helper()
	if c.Status != w.status {
		t.Errorf("status %q, want %q (summary %q)", c.Status, w.status, c.Summary)
	}
	for _, s := range w.summary {
		if !strings.Contains(c.Summary, s) {
			t.Errorf("summary %q lacks %q", c.Summary, s)
		}
	}
	for _, s := range w.fix {
		if !strings.Contains(c.Fix, s) {
			t.Errorf("fix %q lacks %q", c.Fix, s)
		}
	}
	if w.noFix && c.Fix != "" {
		t.Errorf("fix %q, want none", c.Fix)
	}
}

func TestDecideFreezes(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.Local)
	freeze := func(kind string, ago time.Duration, s float64) diag.Freeze {
		return diag.Freeze{Kind: kind, At: now.Add(-ago), DurationS: s}
	}
	cases := []struct {
		name  string
		in    freezesInput
		value float64
		want
	}{
		{"none", freezesInput{Now: now, Android: true}, 0, want{status: OK, summary: []string{"no freeze"}, noFix: true}},
		{"only older than a day", freezesInput{Now: now, Android: true, Freezes: []diag.Freeze{freeze("freeze", 25*time.Hour, 600)}}, 0,
			want{status: OK, noFix: true}},
		{"android freeze", freezesInput{Now: now, Android: true, Freezes: []diag.Freeze{
			freeze("freeze", 58*time.Minute, 240), freeze("freeze", 10*time.Minute, 8)}}, 240,
			want{status: Warn, summary: []string{"2 freezes in the last day", "longest 4 min", "while Termux was in the background"},
				fix: []string{"termux-wake-lock", `"Unrestricted"`, "adb shell settings put global cached_apps_freezer disabled"}}},
		{"android sleep only", freezesInput{Now: now, Android: true, Freezes: []diag.Freeze{freeze("sleep", time.Hour, 1800)}}, 1800,
			want{status: Warn, summary: []string{"1 sleep in", "slept for 30 min"}, fix: []string{"termux-wake-lock"}}},
		{"linux freeze", freezesInput{Now: now, Freezes: []diag.Freeze{freeze("freeze", time.Minute, 8)}}, 8,
			want{status: Warn, summary: []string{"Frozen for 8 s", "SIGSTOP"}, fix: []string{"docker pause"}}},
		{"linux sleep", freezesInput{Now: now, Freezes: []diag.Freeze{freeze("sleep", time.Minute, 60)}}, 60,
			want{status: Warn, fix: []string{"suspended"}}},
		{"unreadable records", freezesInput{Now: now, Err: errors.New("permission denied")}, 0,
			want{status: Warn, summary: []string{"permission denied"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decideFreezes(c.in)
			c.want.check(t, got)
			if v, _ := got.Value.(float64); v != c.value {
				t.Errorf("value %v, want %v", got.Value, c.value)
			}
		})
	}
}

func TestDecidePhantom(t *testing.T) {
	errNo := errors.New("settings not found")
	cases := []struct {
		name string
		in   phantomInput
		want
	}{
		{"linux", phantomInput{}, want{status: OK, summary: []string{NotApplicable}, noFix: true}},
		{"android 11", phantomInput{Android: true, SDK: "30"}, want{status: OK, summary: []string{"predates"}, noFix: true}},
		{"android 12", phantomInput{Android: true, SDK: "31"}, want{status: Warn, fix: []string{"max_phantom_processes"}}},
		{"android 13, setting unreadable", phantomInput{Android: true, SDK: "33", SettingErr: errNo},
			want{status: Warn, summary: []string{"cannot be read"}, fix: []string{"adb shell settings put global settings_enable_monitor_phantom_procs false"}}},
		{"android 13, killer off", phantomInput{Android: true, SDK: "33", Setting: "false"}, want{status: OK, summary: []string{"is off"}, noFix: true}},
		{"android 14, default", phantomInput{Android: true, SDK: "34", Setting: "null"},
			want{status: Warn, summary: []string{"is on"}, fix: []string{"settings_enable_monitor_phantom_procs false", "Disable child process restrictions"}}},
		{"android 14, on", phantomInput{Android: true, SDK: "34", Setting: "true"}, want{status: Warn, fix: []string{"Disable child process restrictions"}}},
		{"android 13 has no developer switch", phantomInput{Android: true, SDK: "33", Setting: "true"}, want{status: Warn}},
		{"no getprop", phantomInput{Android: true, SDKErr: errors.New("getprop not found")},
			want{status: Warn, summary: []string{"getprop not found"}, fix: []string{"settings_enable_monitor_phantom_procs"}}},
		{"garbage sdk", phantomInput{Android: true, SDK: "abc"}, want{status: Warn, summary: []string{`"abc"`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decidePhantom(c.in)) })
	}
	if c := decidePhantom(phantomInput{Android: true, SDK: "33", Setting: "true"}); strings.Contains(c.Fix, "Developer options") {
		t.Errorf("Android 13 offered the Android 14 switch: %q", c.Fix)
	}
}

func TestDecideBoot(t *testing.T) {
	p := "/home/.termux/boot/webui"
	cases := []struct {
		name string
		in   bootInput
		want
	}{
		{"not termux", bootInput{}, want{status: OK, summary: []string{NotApplicable}, noFix: true}},
		{"missing", bootInput{Termux: true, Home: "/home", State: ctl.BootState{Path: p}},
			want{status: Warn, summary: []string{"no Termux:Boot script"}, fix: []string{"webui boot enable", "Termux:Boot", "open it once"}}},
		{"stale", bootInput{Termux: true, Home: "/home", State: ctl.BootState{Path: p, Enabled: true}, Exec: true},
			want{status: Warn, summary: []string{"stale"}, fix: []string{"webui boot enable"}}},
		{"not executable", bootInput{Termux: true, Home: "/home", State: ctl.BootState{Path: p, Enabled: true, Current: true}},
			want{status: Warn, summary: []string{"not executable"}, fix: []string{"webui boot enable"}}},
		{"in place", bootInput{Termux: true, Home: "/home", State: ctl.BootState{Path: p, Enabled: true, Current: true}, Exec: true},
			want{status: OK, summary: []string{"in place"}, noFix: true}},
		{"a directory in the boot dir", bootInput{Termux: true, Home: "/home", State: ctl.BootState{Path: p, Enabled: true, Current: true}, Exec: true, NotFiles: []string{"old"}},
			want{status: Warn, summary: []string{"not files (old)"}, fix: []string{"move them out"}}},
		{"no home", bootInput{Termux: true}, want{status: Warn, summary: []string{"HOME"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideBoot(c.in)) })
	}
}

func TestDecideProcesses(t *testing.T) {
	cases := []struct {
		name string
		in   processesInput
		want
	}{
		{"linux", processesInput{Count: 300}, want{status: OK, summary: []string{NotApplicable, "300"}}},
		{"android few", processesInput{Android: true, Count: 9}, want{status: OK, summary: []string{"9 processes", "32"}}},
		{"android near", processesInput{Android: true, Count: 26}, want{status: Warn, summary: []string{"near"}, fix: []string{"phantom"}}},
		{"android past", processesInput{Android: true, Count: 40}, want{status: Warn, summary: []string{"past"}, fix: []string{"close Termux sessions"}}},
		{"unreadable", processesInput{Android: true, Err: errors.New("no /proc")}, want{status: Warn, summary: []string{"no /proc"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideProcesses(c.in)) })
	}
}

func TestDecideServices(t *testing.T) {
	cases := []struct {
		name string
		in   servicesInput
		want
	}{
		{"linux", servicesInput{}, want{status: OK, summary: []string{NotApplicable}}},
		{"both running", servicesInput{Termux: true, Runsv: true, Loop: true}, want{status: Warn, summary: []string{"both"}, fix: []string{"sv-disable webui", "webui boot disable"}}},
		{"both enabled", servicesInput{Termux: true, SvEnabled: true, BootEnabled: true}, want{status: Warn, summary: []string{"both"}}},
		{"runit only", servicesInput{Termux: true, Runsv: true, SvEnabled: true}, want{status: OK, summary: []string{"only termux-services"}}},
		{"loop only", servicesInput{Termux: true, Loop: true, BootEnabled: true}, want{status: OK, summary: []string{"only the watchdog loop"}}},
		{"neither", servicesInput{Termux: true}, want{status: OK, summary: []string{"neither"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideServices(c.in)) })
	}
	for args, is := range map[string]bool{
		"sh /data/data/com.termux/files/usr/bin/webui-watchdog-loop": true, "/data/data/com.termux/files/usr/bin/webui-watchdog-loop --interval 5s": true,
		"/usr/bin/webui watchdog": false, "webui serve": false, "vim webui-watchdog-loop": false, "less x webui-watchdog-loop": false, "": false,
	} {
		if got := isWatchdogLoop(strings.Fields(args)); got != is {
			t.Errorf("isWatchdogLoop(%q) = %v", args, got)
		}
	}
}

func TestDecideDNS(t *testing.T) {
	cases := []struct {
		name string
		in   dnsInput
		want
	}{
		{"termux without resolv-conf", dnsInput{Termux: true, Prefix: "/p", Host: "h"}, want{status: Warn, fix: []string{"pkg install resolv-conf"}}},
		{"termux resolv-conf, offline", dnsInput{Termux: true, Prefix: "/p", PrefixNS: []string{"8.8.8.8"}, Host: "h", Offline: "no default route: offline"},
			want{status: OK, summary: []string{"/p/etc/resolv.conf lists 8.8.8.8", "skipped (no default route: offline)"}}},
		{"resolves", dnsInput{EtcResolv: true, Host: "h", LookupDone: true}, want{status: OK, summary: []string{"h resolves"}}},
		{"does not resolve", dnsInput{EtcResolv: true, Host: "h", LookupDone: true, LookupErr: errors.New("no such host")},
			want{status: Warn, summary: []string{"no such host"}, fix: []string{"network"}}},
		{"linux without resolv.conf", dnsInput{Host: "h"}, want{status: Warn, summary: []string{"/etc/resolv.conf is missing"}}},
		{"file feed", dnsInput{EtcResolv: true}, want{status: OK, summary: []string{"no update host"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideDNS(c.in)) })
	}
}

func TestDecideTLS(t *testing.T) {
	cases := []struct {
		name string
		in   tlsInput
		want
	}{
		{"termux bundle", tlsInput{Termux: true, Bundle: "/p/etc/tls/cert.pem", HasPEM: true}, want{status: OK, summary: []string{"cert.pem"}}},
		{"termux none", tlsInput{Termux: true}, want{status: Warn, fix: []string{"pkg install ca-certificates"}}},
		{"linux none", tlsInput{}, want{status: Warn, fix: []string{"apt install ca-certificates"}}},
		{"SSL_CERT_FILE unreadable", tlsInput{Env: "/x"}, want{status: Fail, summary: []string{"SSL_CERT_FILE=/x"}}},
		{"SSL_CERT_FILE empty", tlsInput{Env: "/x", Bundle: "/x"}, want{status: Fail, summary: []string{"no certificates"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideTLS(c.in)) })
	}
}

func TestDecideStorage(t *testing.T) {
	dirs := []dirState{{Name: "state", Path: "/s"}, {Name: "log", Path: "/l"}}
	cases := []struct {
		name string
		in   storageInput
		want
	}{
		{"plenty", storageInput{FreeBytes: 500 << 20, MinFreeMB: 20, Dirs: dirs}, want{status: OK, summary: []string{"500 MiB"}}},
		{"low", storageInput{FreeBytes: 5 << 20, MinFreeMB: 20, Dirs: dirs}, want{status: Fail, summary: []string{"below min_free_mb"}}},
		{"log not writable", storageInput{FreeBytes: 500 << 20, Dirs: []dirState{{Name: "log", Path: "/l", Err: fs.ErrPermission}}},
			want{status: Fail, summary: []string{"log dir /l"}, fix: []string{"--log-dir"}}},
		{"not created yet", storageInput{FreeBytes: 500 << 20, Dirs: []dirState{{Name: "state", Path: "/s", Err: errMissing}}}, want{status: OK}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideStorage(c.in)) })
	}
}

func TestDecideWatchdog(t *testing.T) {
	running := ctl.WatchdogStatus{Running: true, PID: 7}
	cases := []struct {
		name string
		in   watchdogInput
		want
	}{
		{"runit", watchdogInput{Termux: true, ServerPID: 5, Supervisor: "runit"}, want{status: OK, summary: []string{"runsv"}}},
		{"systemd", watchdogInput{ServerPID: 5, Supervisor: "systemd"}, want{status: OK, summary: []string{"systemd"}}},
		{"watchdog", watchdogInput{Termux: true, ServerPID: 5, Watchdog: running}, want{status: OK, summary: []string{"pid 7"}}},
		{"termux bare", watchdogInput{Termux: true, ServerPID: 5}, want{status: Warn, summary: []string{"nothing brings"}, fix: []string{"webui-watchdog-loop", "webui boot enable"}}},
		{"proot bare", watchdogInput{PRoot: true}, want{status: Warn, summary: []string{"not running"}, fix: []string{"webui watchdog", "no systemd"}}},
		{"linux bare", watchdogInput{}, want{status: Warn, fix: []string{"systemctl enable --now webui"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideWatchdog(c.in)) })
	}
}

func TestDecideUpdate(t *testing.T) {
	cases := []struct {
		name string
		in   updateInput
		want
	}{
		{"never", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}}, want{status: OK, summary: []string{"no update has run yet"}}},
		{"done", updateInput{Status: update.Status{State: update.StateDone, Message: "updated 1.0 → 1.1"}}, want{status: OK, summary: []string{"1.1"}}},
		{"failed", updateInput{Status: update.Status{State: update.StateFailed, Message: "signature mismatch"}}, want{status: Warn, summary: []string{"signature mismatch"}, fix: []string{"webui update apply"}}},
		{"rolled back", updateInput{Status: update.Status{State: update.StateRolledBack, Message: "new version failed its check"}}, want{status: Warn}},
		{"damaged", updateInput{Err: errors.New("status.json: damaged")}, want{status: Warn, summary: []string{"damaged"}}},
		{"never checked", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}}, want{status: OK, summary: []string{"no update check has run yet"}}},
		{"check failed", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}, HasCheck: true, Check: update.CheckResult{CheckedAt: time.Now(), Current: "1.0", Error: "lookup example.org: no such host"}},
			want{status: Warn, summary: []string{"last update check", "failed", "no such host"}, fix: []string{"webui update check", "dns"}}},
		{"available", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}, HasCheck: true, Check: update.CheckResult{CheckedAt: time.Now(), Current: "1.0", Latest: "1.2", Available: true}},
			want{status: OK, summary: []string{"1.2 is available"}, fix: []string{"webui update apply"}}},
		{"up to date", updateInput{Status: update.Status{State: update.StateDone, Message: "updated 1.0 → 1.1"}, HasCheck: true, Check: update.CheckResult{CheckedAt: time.Now(), Current: "1.1", Latest: "1.1"}},
			want{status: OK, summary: []string{"updated 1.0 → 1.1", "1.1 is the latest release"}}},
		{"apt", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}, HasCheck: true, Check: update.CheckResult{CheckedAt: time.Now(), Apt: &update.AptSource{Command: "pkg upgrade"}}},
			want{status: OK, summary: []string{"apt keeps webui current", "pkg upgrade"}}},
		{"check file damaged", updateInput{Status: update.Status{State: update.StateIdle, Message: "no update has run"}, CheckErr: errors.New("check.json: damaged")}, want{status: Warn, summary: []string{"damaged"}}},
		{"a failed update outranks an old check", updateInput{Status: update.Status{State: update.StateFailed, Message: "signature mismatch"}, HasCheck: true, Check: update.CheckResult{CheckedAt: time.Now(), Latest: "1.2", Available: true}},
			want{status: Warn, summary: []string{"signature mismatch"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.want.check(t, decideUpdate(c.in)) })
	}
}

// TestRunTermux runs every check against fake probes of a Termux phone on
// Android 14 and checks the pinned JSON shape.
func TestRunTermux(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	env := map[string]string{"HOME": home, "PREFIX": filepath.Join(dir, "usr")}
	now := time.Now()
	var cmds []string
	p := &Probes{
		Config:   &config.Config{StateDir: filepath.Join(dir, "state"), LogDir: filepath.Join(dir, "log"), RunDir: filepath.Join(dir, "run"), MinFreeMB: 20, UpdateURL: "https://example.org/m.json"},
		Instance: &ctl.Instance{RunDir: filepath.Join(dir, "run"), PIDFile: filepath.Join(dir, "run", "webui.pid")},
		Platform: platform.Report{Termux: platform.Fact{Value: true}, Android: platform.Fact{Value: true}, Prefix: env["PREFIX"]},
		Getenv:   func(k string) string { return env[k] },
		Offline:  true,
		Command: func(_ context.Context, name string, args ...string) (string, error) {
			cmds = append(cmds, name+" "+strings.Join(args, " "))
			if name == "getprop" {
				return "34", nil
			}
			return "", errors.New(name + " not found")
		},
		Lifetimes: func() ([]diag.Lifetime, error) {
			return []diag.Lifetime{{Freezes: []diag.Freeze{{Kind: "freeze", At: now.Add(-time.Hour), DurationS: 240}}}}, nil
		},
		Procs: func() ([]Proc, error) { return make([]Proc, 30), nil },
	}
	r := Run(context.Background(), p)
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	if got := strings.Join(ids, " "); got != "freezes phantom boot processes services dns tls storage watchdog update" {
		t.Fatalf("checks: %s", got)
	}
	if c := r.Get("freezes"); c.Status != Warn || c.Value != 240.0 {
		t.Errorf("freezes: %+v", c)
	}
	if c := r.Get("phantom"); c.Status != Warn || c.Value != 34 || !strings.Contains(c.Fix, "Disable child process restrictions") {
		t.Errorf("phantom: %+v", c)
	}
	if strings.Join(cmds, "; ") != "getprop ro.build.version.sdk; settings get global settings_enable_monitor_phantom_procs" {
		t.Errorf("commands run: %q", cmds)
	}
	if c := r.Get("boot"); c.Status != Warn || !strings.Contains(c.Fix, "webui boot enable") {
		t.Errorf("boot: %+v", c)
	}
	if c := r.Get("processes"); c.Status != Warn || c.Value != 30 {
		t.Errorf("processes: %+v", c)
	}
	if r.Failed() {
		t.Errorf("failed: %+v", r)
	}
	// The pinned shape: exactly these keys, value only where there is one.
	b, _ := json.Marshal(r)
	var doc struct {
		Checks []map[string]any `json:"checks"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Checks {
		for k := range c {
			if k != "id" && k != "status" && k != "summary" && k != "fix" && k != "value" {
				t.Errorf("check %v has key %q", c["id"], k)
			}
		}
		if s := c["status"]; s != OK && s != Warn && s != Fail {
			t.Errorf("check %v: status %v", c["id"], s)
		}
	}
	// Once the boot script is written, boot is ok.
	if _, err := ctl.BootEnable(home); err != nil {
		t.Fatal(err)
	}
	if c := Run(context.Background(), p).Get("boot"); c.Status != OK {
		t.Errorf("boot after enable: %+v", c)
	}
}

func TestUserProcs(t *testing.T) {
	if selfUID("/proc") != os.Getuid() {
		t.Fatalf("selfUID %d, getuid %d", selfUID("/proc"), os.Getuid())
	}
	ps, err := userProcs("/proc", selfUID("/proc"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range ps {
		found = found || p.PID == os.Getpid()
	}
	if !found {
		t.Fatalf("this process is not among %d processes of its user", len(ps))
	}
}

func TestRunCommand(t *testing.T) {
	out, err := runCommand(context.Background(), "sh", "-c", "echo 34")
	if err != nil || out != "34" {
		t.Fatalf("runCommand: %q, %v", out, err)
	}
	if _, err := runCommand(context.Background(), "sh", "-c", "exit 3"); err == nil {
		t.Fatal("a failing command gave no error")
	}
	if _, err := runCommand(context.Background(), "no-such-command-here"); err == nil {
		t.Fatal("a missing command gave no error")
	}
	start := time.Now()
	if _, err := runCommand(context.Background(), "sleep", "30"); err == nil || time.Since(start) > 2*commandTimeout {
		t.Fatalf("a hanging command: %v after %s", err, time.Since(start))
	}
}

// The hosted apps' processes, and their children, are named in the count
// toward Android's limit; other processes of the user are not theirs.
func TestProcessesCountHostedApps(t *testing.T) {
	run := t.TempDir()
	if err := os.MkdirAll(filepath.Join(run, "apps"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]string{"notes.json": `{"pid":100,"restarts":0}`, "site.json": `{"restarts":0}`, "notes.lock": ``} {
		if err := os.WriteFile(filepath.Join(run, "apps", name), []byte(rec), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	procs := []Proc{{PID: 1}, {PID: 50, PPID: 1}, {PID: 100, PPID: 50}, {PID: 101, PPID: 100}, {PID: 102, PPID: 101}, {PID: 200, PPID: 50}}
	for i := 0; i < 20; i++ {
		procs = append(procs, Proc{PID: 300 + i, PPID: 50})
	}
	p := &Probes{Config: &config.Config{RunDir: run}, Procs: func() ([]Proc, error) { return procs, nil }}
	p.Platform.Android.Value = true
	p.defaults()
	c := checkProcesses(context.Background(), p)
	if c.Status != Warn || c.Value != len(procs) || !strings.Contains(c.Summary, "3 of them the hosted apps' processes") {
		t.Fatalf("processes: %+v", c)
	}
	// No records: the summary still says apps count, with no number.
	p.Config.RunDir = t.TempDir()
	if c := checkProcesses(context.Background(), p); strings.Contains(c.Summary, "of them") || !strings.Contains(c.Summary, "hosted apps count too") {
		t.Fatalf("processes without apps: %+v", c)
	}
}
