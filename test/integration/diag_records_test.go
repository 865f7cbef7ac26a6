package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startRaw starts the binary with exactly args (no harness flags) in cwd;
// dir/log/webui.log must be where it logs.
func startRaw(t *testing.T, dir, cwd string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = cwd
	cmd.Env = append(baseEnv(dir), env...)
	p := launch(t, cmd, dir, nil)
	p.addr = p.waitListening(15 * time.Second)
	return p
}

// records lists the lifetime records (regular *.jsonl files) in dir.
func records(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out
}

// recordID is the lifetime id of a file in the lifetimes dir: the name up
// to the suffix ("20261127T011325.291817Z-7392.restart-1.strace").
func recordID(name string) string {
	i := strings.Index(name, "Z-")
	if i < 0 {
		return name
	}
	if j := strings.IndexByte(name[i:], '.'); j >= 0 {
		return name[:i+j]
	}
	return name
}

// The first-line marker goes where the command line, environment or
// defaults say, before the config file is read; when the config file names
// another state_dir, the record moves there.
func TestDiagConfigStateDirMovesRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A Termux prefix makes the default state dir one inside dir, whatever
	// user runs the tests, and puts the default config file there too.
	prefix := filepath.Join(dir, "data/data/com.termux/files/usr")
	early := filepath.Join(prefix, "var/lib/webui")
	conf := filepath.Join(prefix, "etc/webui/webui.conf")
	state := filepath.Join(dir, "confstate")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("addr = 127.0.0.1:0\nstate_dir = %s\nlog_dir = %s\nrun_dir = %s\n", state, filepath.Join(dir, "log"), filepath.Join(dir, "run"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRaw(t, dir, dir, []string{"PREFIX=" + prefix}, "serve")
	p.mustHealthy()
	if m := records(t, filepath.Join(early, "lifetimes")); len(m) != 0 {
		t.Errorf("early record left behind: %v", m)
	}
	if _, err := os.Stat(filepath.Join(early, "lifetimes")); err != nil {
		t.Errorf("firstline did not write in the default state dir first: %v", err)
	}
	m := records(t, filepath.Join(state, "lifetimes"))
	if len(m) != 1 {
		t.Fatalf("records under the config's state dir: %v", m)
	}
	b, _ := os.ReadFile(m[0])
	if n := strings.Count(string(b), `"event":"first-line"`); n != 1 || !strings.Contains(string(b), `"event":"ready"`) || strings.Contains(string(b), `"late":true`) {
		t.Errorf("moved record (first-line %d times):\n%s", n, b)
	}
	wantVerdict(t, diagNewest(t, state, p.pid()), "running")
	if lts := diagList(t, early); len(lts) != 0 {
		t.Errorf("lifetimes in the early state dir: %v", lts)
	}
	p.signal(syscall.SIGTERM)
	p.wait(10 * time.Second)
	wantVerdict(t, diagNewest(t, state, p.pid()), "signal", "SIGTERM")
}

// A relative --state-dir names the same directory as the absolute one the
// config resolves it to: the record stays (it is not "moved" onto itself).
func TestDiagRelativeStateDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "webui.conf"), []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRaw(t, dir, dir, nil, "serve", "--addr", "127.0.0.1:0", "--state-dir", "state", "--log-dir", "log",
		"--run-dir", "run", "--config", "webui.conf")
	p.mustHealthy()
	m := records(t, filepath.Join(dir, "state", "lifetimes"))
	if len(m) != 1 {
		t.Fatalf("records: %v", m)
	}
	b, _ := os.ReadFile(m[0])
	if n := strings.Count(string(b), `"event":"first-line"`); n != 1 {
		t.Errorf("record has %d first-line markers:\n%s", n, b)
	}
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
	wantVerdict(t, diagNewest(t, filepath.Join(dir, "state"), p.pid()), "killed_untraced")
}

// A corrupt or truncated record is reported as corrupt_record: it never
// crashes diagnose, nor a server that starts beside it.
func TestDiagCorruptRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lifetimesDir := filepath.Join(dir, "state", "lifetimes")
	if err := os.MkdirAll(filepath.Join(lifetimesDir, "20200101T000006.000000Z-107.jsonl"), 0o700); err != nil {
		t.Fatal(err) // a directory with a record's name: ignored
	}
	firstLine := `{"event":"first-line","t":"2020-01-01T00:00:01Z","pid":102,"ppid":1,"version":"0.1.0","argv":["webui"]}` + "\n"
	files := map[string]string{
		"20200101T000000.000000Z-101.jsonl": "garbage\x00\xff not json at all\n",
		"20200101T000001.000000Z-102.jsonl": firstLine + `{"event":"installed","t":"2020-01-01T00:00:01.1Z"}` + "\n" + `{"event":"ready","t":"2020-01-0`,
		"20200101T000002.000000Z-103.jsonl": "",
		"20200101T000003.000000Z-104.jsonl": "[1,2,3]\n\"a string\"\n",
		"20200101T000004.000000Z-105.crash": "panic: orphan crash file without a record\n",
		"20200101T000005.000000Z-106.jsonl": `{"event":"ready","t":"2020-01-01T00:00:05Z","addr":"127.0.0.1:1"}` + "\n",
		"20200101T000008.000000Z-108.jsonl": strings.Replace(firstLine, `"pid":102`, `"pid":108`, 1) + strings.Repeat("x", 9<<20) + "\n",
		"not-a-record":                      "x",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(lifetimesDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lts := diagList(t, filepath.Join(dir, "state"))
	want := map[int]string{101: "not valid JSON", 102: "line 3 is not valid JSON", 103: "empty record", 104: "not valid JSON",
		106: "no first-line marker", 108: "larger than"}
	if len(lts) != len(want) {
		t.Errorf("lifetimes: %v", lts)
	}
	for _, lt := range lts {
		w, ok := want[lt.PID]
		if !ok {
			t.Errorf("unexpected lifetime %v", lt)
			continue
		}
		wantVerdict(t, lt, "corrupt_record", w)
	}
	code, out, stderr := runDiagnose(t, filepath.Join(dir, "state"))
	if code != 0 || strings.Count(out, "corrupt_record") != len(want) {
		t.Errorf("diagnose: exit %d\n%s%s", code, out, stderr)
	}
	d := diagDetail(t, filepath.Join(dir, "state"), "102")
	if len(d.Events) != 3 || d.Events[2]["unparsed"] == nil {
		t.Errorf("diagnose --id 102 events: %v", d.Events)
	}

	// A server starts beside them, prunes to its caps and serves /api/diag.
	p := start(t, opts{dir: dir, config: "diag_keep = 4\ndiag_max_bytes = 65536\n"})
	p.mustHealthy()
	// Pruning runs just after the server listens, off the startup path:
	// ask until the list and the records on disk agree.
	var api []lifeRec
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, body, err := p.get("/api/diag")
		api = nil
		if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &api) != nil || len(api) == 0 || api[0].PID != p.pid() || api[0].Verdict != "running" {
			t.Fatalf("GET /api/diag: %v %v %.500s", resp, err, body)
		}
		if n := len(records(t, lifetimesDir)); (len(api) == n && n <= 4) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var total int64
	var ids []string
	ents, _ := os.ReadDir(lifetimesDir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && strings.Count(e.Name(), ".") >= 2 {
			total += fi.Size()
			ids = append(ids, e.Name())
		}
	}
	if len(ids) > 4 || total > 65536 {
		t.Errorf("after pruning: %d files, %d bytes: %v", len(ids), total, ids)
	}
	if _, err := os.Stat(filepath.Join(lifetimesDir, "not-a-record")); err != nil {
		t.Errorf("pruning removed a file that is not a record: %v", err)
	}
	if len(api) != len(records(t, lifetimesDir)) {
		t.Errorf("/api/diag lists %d lifetimes, %d records on disk", len(api), len(records(t, lifetimesDir)))
	}
	p.mustHealthy()
}

// Pruning at startup (once the server listens) keeps the newest diag_keep lifetimes (this one
// included) with all their files, and the total under diag_max_bytes.
func TestDiagPruneCaps(t *testing.T) {
	t.Parallel()
	seed := func(t *testing.T, n, size int) (string, []string) {
		dir := t.TempDir()
		ld := filepath.Join(dir, "state", "lifetimes")
		if err := os.MkdirAll(ld, 0o700); err != nil {
			t.Fatal(err)
		}
		var ids []string
		base := time.Now().Add(-time.Hour).UTC()
		for i := 0; i < n; i++ {
			st := base.Add(time.Duration(i) * time.Second)
			id := st.Format("20060102T150405.000000Z") + "-" + strconv.Itoa(1000+i)
			rec := fmt.Sprintf(`{"event":"first-line","t":%q,"pid":%d}`+"\n"+`{"event":"exit","t":%q,"reason":"SIGTERM","signal":15,"code":0,"pad":%q}`+"\n",
				st.Format(time.RFC3339Nano), 1000+i, st.Add(time.Second).Format(time.RFC3339Nano), strings.Repeat("p", size))
			for name, content := range map[string]string{id + ".jsonl": rec, id + ".crash": "panic: x\n", id + ".restart-1.strace": "execve(...)\n"} {
				if err := os.WriteFile(filepath.Join(ld, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		return dir, ids
	}
	check := func(t *testing.T, dir string, p *proc, kept []string) {
		t.Helper()
		ld := filepath.Join(dir, "state", "lifetimes")
		cur := diagNewest(t, filepath.Join(dir, "state"), p.pid())
		// The server prunes once it listens, in the background.
		var byID map[string]int
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ents, _ := os.ReadDir(ld)
			byID = map[string]int{}
			for _, e := range ents {
				byID[recordID(e.Name())]++
			}
			if len(byID) == len(kept)+1 || time.Now().After(deadline) {
				break
			}
		}
		if byID[cur.ID] == 0 {
			t.Errorf("current lifetime pruned")
		}
		delete(byID, cur.ID)
		if len(byID) != len(kept) {
			t.Errorf("kept %d old lifetimes, want %d: %v", len(byID), len(kept), byID)
		}
		for _, id := range kept {
			if byID[id] != 3 {
				t.Errorf("lifetime %s kept %d of its 3 files", id, byID[id])
			}
		}
	}
	t.Run("keep", func(t *testing.T) {
		t.Parallel()
		dir, ids := seed(t, 60, 0)
		p := start(t, opts{dir: dir, config: "diag_keep = 10\n"})
		check(t, dir, p, ids[len(ids)-9:])
	})
	t.Run("max bytes", func(t *testing.T) {
		t.Parallel()
		dir, ids := seed(t, 20, 25000)
		p := start(t, opts{dir: dir, config: "diag_max_bytes = 65536\n"})
		// Each old lifetime is ~25 KB; with this one's record, two fit.
		check(t, dir, p, ids[len(ids)-2:])
	})
}
