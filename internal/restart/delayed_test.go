package restart

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/handoff"
	"github.com/termux-webui/webui/internal/paths"

	"github.com/termux-webui/webui/internal/diag"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/restart/schedule"
)

// The delayed strategy with a watchdog: no helper; the intent says the
// watchdog starts the next server, on the configured schedule, probing a
// dialable /health; the server serves schedule.Lead more, then drains.
func TestDelayedByWatchdog(t *testing.T) {
	cases := []struct{ addr, health string }{
		{"127.0.0.1:8787", "http://127.0.0.1:8787/health"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/health"},
		{"[::]:9001", "http://[::1]:9001/health"},
		{"192.168.1.5:8787", "http://192.168.1.5:8787/health"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.RestartAttempts = 0 // clamped to 1, the same for every reader of the setting
			srv := listen(t)
			h := srv.Handoff
			h.Addr = c.addr
			rec := newRecorder(t)
			exe := testExe(t)
			e := &Engine{Strategy: "delayed", Android: true, Config: cfg, Recorder: rec, Log: &logger{}, Exe: exe,
				Args: []string{"/old/path/webui", "serve", "--addr", c.addr}, Env: []string{},
				Watchdog: func() bool { return true },
				lead:     func() { *srv.events = append(*srv.events, "lead") }}
			before := time.Now().UTC()
			res, err := e.Restart(context.Background(), "settings", h)
			if err != nil || !res.Exit || res.Code != exitcode.OK || !strings.Contains(res.Detail, "watchdog") {
				t.Fatalf("Restart = %+v, %v", res, err)
			}
			if !slices.Equal(*srv.events, []string{"lead", "drain(false)"}) {
				t.Errorf("steps %v: the server must serve the lead time, then drain without keeping the socket", *srv.events)
			}
			in, ok := schedule.ReadIntent(cfg.RunDir)
			if !ok {
				t.Fatal("no intent")
			}
			want := schedule.New(cfg.RestartDelay, cfg.RestartSurvive, cfg.RestartAttempts)
			if got, err := schedule.Parse(in.Schedule); err != nil || got != want || got.Attempts != 1 {
				t.Errorf("intent schedule %q (%v), want %v", in.Schedule, err, want)
			}
			if in.By != schedule.ByWatchdog || in.HelperPID != 0 || in.PID != os.Getpid() || in.Record != rec.Path() ||
				in.Reason != "settings" || in.Health != c.health || in.At.Before(before) {
				t.Errorf("intent %+v", in)
			}
			if want := []string{exe, "serve", "--addr", c.addr}; !slices.Equal(in.Argv, want) {
				t.Errorf("intent argv %q, want %q (argv[0] the install path)", in.Argv, want)
			}
			evs := events(t, rec.Path())
			pre := evs[len(evs)-1]
			if pre["event"] != diag.EvPreRestart || pre["strategy"] != "delayed" || pre["by"] != schedule.ByWatchdog || pre["delay_s"] != 3.0 {
				t.Errorf("pre-restart event %v", pre)
			}
		})
	}
}

// Without a watchdog the old server execs a detached restart helper from
// its own image, tells it what to start and when, and records its pid.
func TestDelayedSpawnsHelper(t *testing.T) {
	cfg := testConfig(t)
	srv := listen(t)
	rec := newRecorder(t)
	out := filepath.Join(t.TempDir(), "helper.json")
	exe := testExe(t)
	e := &Engine{Strategy: "delayed", Android: true, Config: cfg, Recorder: rec, Log: &logger{}, Exe: exe,
		Args: []string{"webui", "serve", "--state-dir", "/s"},
		Env:  []string{envRole + "=record-argv", envOut + "=" + out, handoff.ListenFD + "=5", handoff.PIDFileFD + "=6", handoff.RestartOf + "=older"},
		lead: func() {}}
	res, err := e.Restart(context.Background(), "update", srv.Handoff)
	if err != nil || !res.Exit || res.Code != exitcode.OK {
		t.Fatalf("Restart = %+v, %v", res, err)
	}
	in, ok := schedule.ReadIntent(cfg.RunDir)
	if !ok || in.By != schedule.ByHelper || in.HelperPID <= 0 {
		t.Fatalf("intent %+v, %v", in, ok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := proc.Wait(ctx, in.HelperPID)
	if err != nil || st.ExitStatus() != 0 {
		t.Fatalf("helper pid %d: %v, %v", in.HelperPID, st, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got argvReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	sched := schedule.New(cfg.RestartDelay, cfg.RestartSurvive, cfg.RestartAttempts).String()
	want := []string{exe, "restart-helper", "--record", rec.Path(), "--old-pid", strconv.Itoa(os.Getpid()),
		"--schedule", sched, "--health", "http://" + srv.Addr + "/health", "--run-dir", cfg.RunDir,
		"--", exe, "serve", "--state-dir", "/s"}
	if !slices.Equal(got.Args, want) {
		t.Errorf("helper argv\n %q\nwant\n %q", got.Args, want)
	}
	if got.PID != in.HelperPID || got.SID != got.PID {
		t.Errorf("helper pid %d sid %d, intent says %d: it must lead its own session", got.PID, got.SID, in.HelperPID)
	}
	env := envMap(got.Env)
	if !slices.Equal(env[handoff.RestartOf], []string{rec.ID()}) || len(env[handoff.ListenFD]) != 0 || len(env[handoff.PIDFileFD]) != 0 {
		t.Errorf("helper environment %q", got.Env)
	}
	pre := events(t, rec.Path())
	if last := pre[len(pre)-1]; last["by"] != schedule.ByHelper || last["helper_pid"] != float64(in.HelperPID) {
		t.Errorf("pre-restart event %v", last)
	}
}

// The supervisor strategy exits with "restart requested"; on Android it
// first leaves the earliest start time for runit's run script.
func TestSupervisorNotBefore(t *testing.T) {
	for _, android := range []bool{false, true} {
		t.Run(fmt.Sprint("android=", android), func(t *testing.T) {
			cfg := testConfig(t)
			srv := listen(t)
			rec := newRecorder(t)
			e := &Engine{Strategy: "supervisor", Android: android, Config: cfg, Recorder: rec, Log: &logger{}, Exe: testExe(t)}
			before := time.Now()
			res, err := e.Restart(context.Background(), "test", srv.Handoff)
			after := time.Now()
			if err != nil || !res.Exit || res.Code != exitcode.Restart || !slices.Equal(srv.drains, []bool{false}) {
				t.Fatalf("Restart = %+v, %v, drains %v", res, err, srv.drains)
			}
			b, err := os.ReadFile(paths.Run(cfg.RunDir).NotBefore())
			if !android {
				if err == nil {
					t.Errorf("notbefore written off Android: %q", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			nb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			lo, hi := before.Add(cfg.RestartDelay).Unix(), after.Add(cfg.RestartDelay).Unix()
			if err != nil || nb < lo || nb > hi {
				t.Errorf("notbefore %q, want a unix time in [%d, %d]", b, lo, hi)
			}
			if st, _ := os.Stat(paths.Run(cfg.RunDir).NotBefore()); st.Mode().Perm() != 0o600 {
				t.Errorf("notbefore mode %v", st.Mode().Perm())
			}
			if !strings.Contains(res.Detail, "not before") {
				t.Errorf("detail %q", res.Detail)
			}
		})
	}
}

// A run dir that cannot take the notbefore file does not stop the restart.
func TestSupervisorNotBeforeUnwritable(t *testing.T) {
	cfg := testConfig(t)
	cfg.RunDir = filepath.Join(cfg.RunDir, "missing")
	lg := &logger{}
	e := &Engine{Strategy: "supervisor", Android: true, Config: cfg, Log: lg, Exe: testExe(t)}
	res, err := e.Restart(context.Background(), "test", listen(t).Handoff)
	if err != nil || res.Code != exitcode.Restart || !strings.Contains(lg.String(), "webui.notbefore") {
		t.Fatalf("Restart = %+v, %v; log %q", res, err, lg.String())
	}
}
