package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

var (
	cliTestAppOnce sync.Once
	cliTestAppBin  string
	cliTestAppErr  error
)

// cliTestApp builds test/fixtures/testapp once.
func cliTestApp(t *testing.T) string {
	t.Helper()
	cliTestAppOnce.Do(func() {
		bin := filepath.Join(buildDir, "testapp-cli")
		out, err := harness.Build(repoRoot, bin, "./test/fixtures/testapp", "")
		if err != nil {
			cliTestAppErr = err
			t.Logf("%s", out)
		}
		cliTestAppBin = bin
	})
	if cliTestAppErr != nil {
		t.Fatalf("build testapp: %v", cliTestAppErr)
	}
	return cliTestAppBin
}

type cliApp struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	PID      int    `json:"pid"`
	Restarts int    `json:"restarts"`
	Route    string `json:"route"`
}

// The app commands against the real binary: add, list, restart, logs, and
// the diagnosis of a kill -9.
func TestAppsCLI(t *testing.T) {
	app := cliTestApp(t)
	p := start(t, opts{})
	d := harness.Dir(p.dir)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, nil, append(args, d.Settings(p.addr)...)...)
	}
	t.Cleanup(func() { // webui dies by SIGKILL in the harness's cleanup: its app would stay
		_, out, _ := cli("app", "list", "--json")
		cli("app", "stop", "testapp")
		var l []cliApp
		if json.Unmarshal([]byte(out), &l) == nil {
			for _, a := range l {
				harness.StopPID(a.PID, 3*time.Second)
			}
		}
	})
	list := func() []cliApp {
		t.Helper()
		code, out, errOut := cli("app", "list", "--json")
		var l []cliApp
		if code != 0 || json.Unmarshal([]byte(out), &l) != nil {
			t.Fatalf("app list --json: exit %d\n%s%s", code, out, errOut)
		}
		return l
	}
	running := func(not int) cliApp {
		t.Helper()
		var l []cliApp
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if l = list(); len(l) == 1 && l[0].State == "running" && l[0].PID > 0 && l[0].PID != not {
				return l[0]
			}
		}
		t.Fatalf("the app is not running (with a pid other than %d): %+v", not, l)
		return cliApp{}
	}

	code, out, errOut := cli("app", "add", "testapp", "--command", app, "--health", "/healthz", "--route", "/t/")
	if code != 0 || !strings.Contains(out, "wrote "+filepath.Join(p.dir, "apps.d", "testapp.conf")) || !strings.Contains(out, "webui reloaded its apps") {
		t.Fatalf("app add: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cli("app", "add", "testapp", "--command", app); code != 2 || !strings.Contains(errOut, "exists") {
		t.Fatalf("second app add: exit %d, %s", code, errOut)
	}
	first := running(0)
	if first.Name != "testapp" || first.Kind != "process" || first.Route != "/t/" {
		t.Fatalf("app list --json: %+v", first)
	}
	if resp, body, err := p.get("/t/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /t/: %v %v %s", resp, err, body)
	}

	if code, out, errOut := cli("app", "restart", "testapp"); code != 0 || !strings.HasPrefix(out, "testapp: ") {
		t.Fatalf("app restart: exit %d\n%s%s", code, out, errOut)
	}
	second := running(first.PID)
	if code, _, errOut := cli("app", "restart", "nope"); code != 2 || !strings.Contains(errOut, "nope") {
		t.Fatalf("app restart nope: exit %d, %s", code, errOut)
	}

	code, out, errOut = cli("app", "logs", "testapp", "-n", "20")
	if code != 0 || !strings.Contains(out, "testapp: pid "+itoaInt(first.PID)) || !strings.Contains(out, "testapp: pid "+itoaInt(second.PID)) {
		t.Fatalf("app logs -n 20: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := cli("app", "logs", "testapp", "-n", "1"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("app logs -n 1: exit %d %q", code, out)
	}

	if err := syscall.Kill(second.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	third := running(second.PID)
	var lts []struct {
		PID     int    `json:"pid"`
		Verdict string `json:"verdict"`
		Code    *int   `json:"code"`
		Signal  string `json:"signal"`
	}
	code, out, errOut = cli("diagnose", "--app", "testapp", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &lts) != nil || len(lts) < 3 {
		t.Fatalf("diagnose --app --json: exit %d\n%s%s", code, out, errOut)
	}
	if lts[0].PID != third.PID || lts[0].Verdict != "running" {
		t.Errorf("newest lifetime %+v, want pid %d running", lts[0], third.PID)
	}
	if k := lts[1]; k.PID != second.PID || k.Signal != "SIGKILL" || k.Code != nil || (k.Verdict != "killed" && k.Verdict != "killed_in_restart_window") {
		t.Errorf("the killed lifetime: %+v (pid %d)", k, second.PID)
	}
	if r := lts[2]; r.PID != first.PID || r.Verdict != "stopped" {
		t.Errorf("the restarted lifetime: %+v (pid %d)", r, first.PID)
	}
	code, out, _ = cli("diagnose", "--app", "testapp")
	if code != 0 || !lineHas(out, "pid "+itoaInt(second.PID), "SIGKILL") {
		t.Errorf("diagnose --app:\n%s", out)
	}
}

func itoaInt(n int) string { b, _ := json.Marshal(n); return string(b) }

func lineHas(text string, parts ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}
