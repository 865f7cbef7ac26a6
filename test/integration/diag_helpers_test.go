package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lifeRec is one entry of `webui diagnose --json`, read as a script would:
// by the documented field names.
type lifeRec struct {
	ID        string           `json:"id"`
	PID       int              `json:"pid"`
	Version   string           `json:"version"`
	StartedAt time.Time        `json:"started_at"`
	LivedS    float64          `json:"lived_s"`
	Verdict   string           `json:"verdict"`
	Reason    string           `json:"reason"`
	Summary   string           `json:"summary"`
	Evidence  []string         `json:"evidence"`
	Hint      string           `json:"hint"`
	Addr      string           `json:"addr"`
	Panics    int              `json:"panics"`
	Signals   []string         `json:"signals"`
	RestartOf string           `json:"restart_of"`
	Record    string           `json:"record"`
	CrashFile string           `json:"crash_file"`
	Events    []map[string]any `json:"events"`
	Crash     string           `json:"crash"`
}

func (lt lifeRec) String() string {
	return fmt.Sprintf("%s pid %d %s: %s [%s]", lt.ID, lt.PID, lt.Verdict, lt.Summary, strings.Join(lt.Evidence, "; "))
}

// events returns the record's events named name (diagnose --id only).
func (lt lifeRec) events(name string) []map[string]any {
	var out []map[string]any
	for _, ev := range lt.Events {
		if ev["event"] == name {
			out = append(out, ev)
		}
	}
	return out
}

func (p *proc) stateDir() string { return filepath.Join(p.dir, "state") }

// runDiagnose runs `webui diagnose --state-dir dir args...` with an empty
// config file: diagnose must not depend on the config that killed the
// server.
func runDiagnose(t *testing.T, stateDir string, args ...string) (int, string, string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "empty.conf")
	if err := os.WriteFile(conf, []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return runCLI(t, nil, append([]string{"diagnose", "--state-dir", stateDir, "--config", conf}, args...)...)
}

// diagList is `webui diagnose --json`: every lifetime, newest first.
func diagList(t *testing.T, stateDir string) []lifeRec {
	t.Helper()
	code, out, stderr := runDiagnose(t, stateDir, "--json", "-n", "0")
	if code != 0 {
		t.Fatalf("diagnose --json: exit %d\n%s%s", code, out, stderr)
	}
	var lts []lifeRec
	if err := json.Unmarshal([]byte(out), &lts); err != nil {
		t.Fatalf("diagnose --json: %v\n%s", err, out)
	}
	return lts
}

// detail is `webui diagnose --json --id id`.
func diagDetail(t *testing.T, stateDir, id string) lifeRec {
	t.Helper()
	code, out, stderr := runDiagnose(t, stateDir, "--json", "--id", id)
	if code != 0 {
		t.Fatalf("diagnose --id %s: exit %d\n%s%s", id, code, out, stderr)
	}
	var lt lifeRec
	if err := json.Unmarshal([]byte(out), &lt); err != nil {
		t.Fatalf("diagnose --id %s: %v\n%s", id, err, out)
	}
	return lt
}

// diagNewest asserts that the newest lifetime in stateDir is pid's, and returns it.
func diagNewest(t *testing.T, stateDir string, pid int) lifeRec {
	t.Helper()
	lts := diagList(t, stateDir)
	if len(lts) == 0 {
		t.Fatalf("no lifetimes in %s", stateDir)
	}
	if lts[0].PID != pid {
		t.Fatalf("newest lifetime is pid %d, want %d: %v", lts[0].PID, pid, lts)
	}
	return lts[0]
}

func wantVerdict(t *testing.T, lt lifeRec, verdict string, summary ...string) {
	t.Helper()
	if lt.Verdict != verdict {
		t.Errorf("verdict = %q, want %q: %v", lt.Verdict, verdict, lt)
	}
	for _, s := range summary {
		if !strings.Contains(lt.Summary, s) {
			t.Errorf("summary lacks %q: %v", s, lt)
		}
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasEvidence reports whether some evidence line starts with prefix.
func hasEvidence(lt lifeRec, prefix string) bool {
	for _, e := range lt.Evidence {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

var testhooksLoc = regexp.MustCompile(`internal/testhooks/on\.go:\d+`)

// trigger requests a route that kills the server: the response may be cut
// short by the death it causes, so only the death (p.wait) is checked.
func (p *proc) trigger(path string) {
	if resp, err := p.client.Get(p.url(path)); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
