package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/update"
)

// A publisher's round trip: keygen, manifest, sign; then `update check`
// trusts the feed with that key, and no other, and rejects a feed changed
// after signing.
func TestReleaseFeedRoundTrip(t *testing.T) {
	s := newSandbox(t)
	dir := t.TempDir()
	keys, dist := filepath.Join(dir, "keys"), filepath.Join(dir, "dist")

	r := s.run(app.Release, "", "keygen", "--out", keys)
	r.expect(t, exitcode.OK, "")
	if st, err := os.Stat(filepath.Join(keys, "release.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("release.key: %v %v", st, err)
	}
	pubText, err := os.ReadFile(filepath.Join(keys, "release.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(string(pubText))
	s.run(app.Release, "", "keygen", "--out", keys).expect(t, exitcode.Usage, "refusing to overwrite a signing key")

	for _, target := range update.Targets {
		s.write(filepath.Join(dist, "webui-"+target), "#!/bin/sh\n")
	}
	s.env["SOURCE_DATE_EPOCH"] = "1700000000"
	r = s.run(app.Release, "", "manifest", "--dist", dist, "--version", "99.0.0")
	r.expect(t, exitcode.OK, "")
	var m struct {
		Version, Published string
		Artifacts          []struct{ Target, URL string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || m.Version != "99.0.0" || m.Published != "2023-11-14T22:13:20Z" ||
		len(m.Artifacts) != len(update.Targets) {
		t.Fatalf("manifest: %v\n%s", err, r.stdout)
	}
	manifest := filepath.Join(dist, "manifest.json")
	s.write(manifest, r.stdout)
	s.run(app.Release, "", "manifest", "--dist", dist).expect(t, exitcode.Usage, "--version")
	s.run(app.Release, "", "manifest", "--dist", dist, "--version", "latest").expect(t, exitcode.Failure, "not a version")

	s.run(app.Release, "", "sign", manifest).expect(t, exitcode.Usage, "--key FILE")
	s.run(app.Release, "", "sign", "--key", filepath.Join(keys, "gone.key"), manifest).expect(t, exitcode.Usage, "gone.key")
	s.run(app.Release, "", "sign", "--key", filepath.Join(keys, "release.key"), manifest).expect(t, exitcode.OK, "")

	feed := httptest.NewServer(http.FileServer(http.Dir(dist)))
	defer feed.Close()
	check := func(key string) result {
		return s.run(app.Update, "", "check", "--json", "--timeout", "5s", "--update-url", feed.URL+"/manifest.json", "--update-keys", key)
	}
	r = check(pub)
	var res struct {
		Latest, Error string
		Available     bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Error != "" || res.Latest != "99.0.0" {
		t.Fatalf("update check with the feed's key: %v\n%s", err, r)
	}

	// Someone else's key: the signature does not verify.
	r = s.run(app.Release, "", "keygen", "--out", filepath.Join(dir, "other"))
	r.expect(t, exitcode.OK, "")
	other, _ := os.ReadFile(filepath.Join(dir, "other", "release.pub"))
	r = check(strings.TrimSpace(string(other)))
	res.Latest, res.Error = "", ""
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitcode.Failure || !strings.Contains(res.Error, "signature") || res.Latest != "" {
		t.Errorf("update check trusting another key: %s", r)
	}

	// The feed's manifest changed after signing.
	b, _ := os.ReadFile(manifest)
	s.write(manifest, strings.Replace(string(b), "99.0.0", "99.0.1", 1))
	r = check(pub)
	res.Latest, res.Error = "", ""
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitcode.Failure || !strings.Contains(res.Error, "signature") || res.Latest != "" {
		t.Errorf("update check of a changed manifest: %s", r)
	}
}

func TestUpdateStatusFresh(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.Update, "", "status", "--json")
	r.expect(t, exitcode.OK, "")
	var st struct{ State, Message string }
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.State != "idle" {
		t.Errorf("update status --json on a fresh state dir: %v\n%s", err, r)
	}
}
