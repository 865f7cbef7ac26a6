package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiagOverhead measures what diagnostics cost at startup: the time from
// exec to the "listening" line (written after the ready marker), with
// diagnostics on and off, runs interleaved. The "on" state dir holds 49
// earlier lifetimes, so each start also prunes one: the steady state with
// the default diag_keep of 50. It only logs the figures.
//
//	WEBUI_BENCH=1 go test -run TestDiagOverhead -v ./test/integration/
func TestDiagOverhead(t *testing.T) {
	if os.Getenv("WEBUI_BENCH") != "1" {
		t.Skip("set WEBUI_BENCH=1 to measure the startup overhead of diagnostics")
	}
	runs := 50
	if n, err := strconv.Atoi(os.Getenv("WEBUI_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "webui.conf")
	if err := os.WriteFile(conf, []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ld := filepath.Join(dir, "state-on", "lifetimes")
	if err := os.MkdirAll(ld, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 49; i++ {
		st := time.Now().Add(-time.Hour + time.Duration(i)*time.Second).UTC()
		id := st.Format("20060102T150405.000000Z") + "-" + strconv.Itoa(100000+i)
		rec := fmt.Sprintf(`{"event":"first-line","t":%q,"pid":%d}`+"\n"+`{"event":"exit","t":%q,"reason":"SIGTERM","signal":15,"code":0}`+"\n",
			st.Format(time.RFC3339Nano), 100000+i, st.Format(time.RFC3339Nano))
		if err := os.WriteFile(filepath.Join(ld, id+".jsonl"), []byte(rec), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(on bool) time.Duration {
		state, env := filepath.Join(dir, "state-on"), baseEnv(dir)
		if !on {
			state, env = filepath.Join(dir, "state-off"), append(env, "WEBUI_DIAGNOSTICS=off")
		}
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--state-dir", state, "--log-dir", filepath.Join(dir, "log"),
			"--run-dir", filepath.Join(dir, "run"), "--config", conf, "--log-stderr", "on")
		cmd.Env = env
		out, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Never hang: a server that does not say it listens is killed,
		// which ends the scan below.
		kill := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
		defer kill.Stop()
		sc := bufio.NewScanner(out)
		var d time.Duration
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				d = time.Since(begin)
				break
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if d == 0 {
			t.Fatalf("no listening line (diagnostics on=%v)", on)
		}
		return d
	}
	// Warm the page cache and the binary.
	measure(true)
	measure(false)
	var on, off []time.Duration
	for i := 0; i < runs; i++ {
		if i%2 == 0 {
			on = append(on, measure(true))
			off = append(off, measure(false))
		} else {
			off = append(off, measure(false))
			on = append(on, measure(true))
		}
	}
	q := func(ds []time.Duration, p float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(p*float64(len(s)-1)+0.5)]
	}
	if m, _ := filepath.Glob(filepath.Join(ld, "*.jsonl")); len(m) != 50 {
		t.Errorf("%d records in the on state dir, want 50 (pruned to diag_keep)", len(m))
	}
	medOn, medOff := q(on, 0.5), q(off, 0.5)
	t.Logf("exec to listening, %d runs each, interleaved:", runs)
	t.Logf("  diagnostics on:  median %v (p25 %v, p75 %v)", medOn.Round(time.Microsecond), q(on, 0.25).Round(time.Microsecond), q(on, 0.75).Round(time.Microsecond))
	t.Logf("  diagnostics off: median %v (p25 %v, p75 %v)", medOff.Round(time.Microsecond), q(off, 0.25).Round(time.Microsecond), q(off, 0.75).Round(time.Microsecond))
	t.Logf("  overhead: %v (median on - median off)", (medOn - medOff).Round(time.Microsecond))
}
