package paths

import (
	"os"
	"regexp"
	"testing"
)

// The names are a contract with files that older versions left behind and
// with scripts: a rename here breaks a running installation.
func TestFileNames(t *testing.T) {
	st, run, log := State("/s/"), Run("/r"), Log("/l")
	u, lt := st.Updates(), st.Lifetimes()
	for _, c := range [][2]string{
		{st.Token(), "/s/token"}, {st.SessionKey(), "/s/session.key"}, {st.Password(), "/s/password_hash"}, {st.Revoked(), "/s/sessions.revoked"},
		{string(lt), "/s/lifetimes"}, {lt.Record("ID"), "/s/lifetimes/ID.jsonl"}, {lt.Crash("ID"), "/s/lifetimes/ID.crash"},
		{RestartTrace(lt.Record("ID"), 2), "/s/lifetimes/ID.restart-2.strace"},
		{string(u), "/s/updates"}, {u.Pending(), "/s/updates/pending.json"}, {u.Status(), "/s/updates/status.json"},
		{u.ApplyLock(), "/s/updates/apply.lock"}, {u.LastCheck(), "/s/updates/check.json"}, {u.Staging(), "/s/updates/staging"},
		{u.DpkgLog(), "/s/updates/staging/dpkg.log"}, {u.DpkgRollbackLog(), "/s/updates/dpkg-rollback.log"},
		{u.CurrentDeb(), "/s/updates/current.deb"}, {u.PrevDeb(), "/s/updates/prev.deb"}, {DebVersion(u.PrevDeb()), "/s/updates/prev.deb.version"},
		{run.PIDFile(), "/r/webui.pid"}, {run.NotBefore(), "/r/webui.notbefore"}, {run.Stopped(), "/r/webui.stopped"},
		{run.WatchdogPID(), "/r/webui-watchdog.pid"}, {run.WatchdogState(), "/r/webui-watchdog.json"}, {run.Intent(), "/r/webui.intent"},
		{run.RestartIntent(), "/r/webui.restart"}, {run.RestartLock(), "/r/webui-restart.lock"},
		{log.Server(), "/l/webui.log"}, {log.Console(), "/l/console.log"}, {log.Watchdog(), "/l/watchdog.log"}, {log.Update(), "/l/update.log"},
		{Run("").PIDFile(), "webui.pid"},
	} {
		if got, want := c[0], c[1]; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// The runit run script is shell and cannot import this package: it must
// wait on the very file the server writes before it exits for a restart.
func TestRunitScriptNotBefore(t *testing.T) {
	b, err := os.ReadFile("../../packaging/termux/service/run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^notbefore=(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the run script sets no notbefore=")
	}
	termux := Defaults(func(k string) string { return map[string]string{"TERMUX_VERSION": "1", "PREFIX": TermuxPrefix}[k] }, 10190)
	if want := Run(termux.RunDir).NotBefore(); string(m[1]) != want {
		t.Errorf("the run script waits on %s, the server writes %s", m[1], want)
	}
}
