package integration

// Helpers of the hosted-apps tests: the test app (test/fixtures/testapp),
// built once; a webui whose config dir holds an apps.d; the /api/apps
// calls; and a cleanup that ends the app processes a test left (they run
// in their own session, so killing webui does not end them).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/test/harness"
)

var testappBuild struct {
	once sync.Once
	bin  string
	err  error
}

// testapp builds test/fixtures/testapp once.
func testapp(t *testing.T) string {
	t.Helper()
	b := &testappBuild
	b.once.Do(func() {
		b.bin = filepath.Join(buildDir, "testapp")
		if out, err := harness.Build(repoRoot, b.bin, "./test/fixtures/testapp", ""); err != nil {
			b.err = fmt.Errorf("build testapp: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// appsDir makes dir/apps.d with the files (NAME.conf → content) and
// registers a cleanup that kills every app process started under dir:
// each file gets env.TESTAPP_TAG = dir, which marks its processes.
func appsDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeApp(t, dir, name, content)
	}
	t.Cleanup(func() { killTagged(dir) })
}

// writeApp writes apps.d/NAME.conf (mode 0644, as `webui app add` does).
func writeApp(t *testing.T, dir, name, content string) {
	t.Helper()
	d := filepath.Join(dir, "apps.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(content, "command =") {
		content += "\nenv.TESTAPP_TAG = " + dir + "\n"
	}
	if err := os.WriteFile(filepath.Join(d, name+".conf"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// killTagged SIGKILLs the processes whose environment has TESTAPP_TAG=dir.
func killTagged(dir string) {
	tag := []byte("\x00TESTAPP_TAG=" + dir + "\x00")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil && bytes.Contains(append([]byte{0}, b...), tag) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// appCmd is a command line for the test app.
func appCmd(t *testing.T) string { return "command = " + testapp(t) + "\nport = auto\n" }

// appStatus is the part of an app's Status the tests read.
type appStatus struct {
	Name        string     `json:"name"`
	State       string     `json:"state"`
	PID         int        `json:"pid"`
	Restarts    int        `json:"restarts"`
	NextTry     *time.Time `json:"next_try"`
	LastVerdict string     `json:"last_verdict"`
	Error       string     `json:"error"`
}

type appLifetime struct {
	PID       int        `json:"pid"`
	Verdict   string     `json:"verdict"`
	Code      *int       `json:"code"`
	Signal    string     `json:"signal"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Summary   string     `json:"summary"`
	Hint      string     `json:"hint"`
}

// appInfo is GET /api/apps/{name}.
func appInfo(t *testing.T, addr, name string) (appStatus, []appLifetime) {
	t.Helper()
	resp, err := ownerClient(15 * time.Second).Get("http://" + addr + "/api/apps/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Status  appStatus     `json:"status"`
		History []appLifetime `json:"history"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/apps/%s: %d %v", name, resp.StatusCode, err)
	}
	return v.Status, v.History
}

// waitApp polls the app's status until ok.
func waitApp(t *testing.T, addr, name string, within time.Duration, ok func(appStatus) bool) appStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, _ := appInfo(t, addr, name)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("app %s: no matching state within %s (last %+v)", name, within, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func appRunning(st appStatus) bool { return st.State == "running" && st.PID > 0 }

// getBody GETs url with c and returns the status and body.
func getBody(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
