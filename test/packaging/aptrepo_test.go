package packaging_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/aptrepo"
	"github.com/termux-webui/webui/internal/debfile"
)

// The apt repositories the tests publish are served on loopback by one
// static file server: http://127.0.0.1:PORT/NAME/ is the repository
// registered as NAME. Its address exists before the first build, so the
// webui-repo packages carry the real URL of the "good" repository.
var (
	aptKeyDir  string // apt.key and apt.pub.gpg, made once
	aptBase    string // http://127.0.0.1:PORT
	aptReposMu sync.Mutex
	aptRepos   = map[string]string{} // NAME -> directory
)

func aptRepoURL(name string) string { return aptBase + "/" + name }

// setupAptRepos makes the repository key and starts the file server.
func setupAptRepos() (stop func(), err error) {
	aptKeyDir = filepath.Join(workDir, "aptkey")
	if err := os.MkdirAll(aptKeyDir, 0o700); err != nil {
		return nil, err
	}
	k, err := aptrepo.GenerateKey(aptrepo.KeyUID, "test@example.org", time.Now().Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	if err := writeKey(k, aptKeyDir); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	aptBase = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		aptReposMu.Lock()
		dir, ok := aptRepos[name]
		aptReposMu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		// Every answer is whole: the repository is rebuilt seconds apart
		// here, and a conditional answer (304) would let apt keep the index
		// it has, which is not what these tests ask about.
		r.Header.Del("If-Modified-Since")
		r.Header.Del("If-None-Match")
		rw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		http.ServeFile(rw, r, filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+rest))))
		aptReposMu.Lock()
		aptServed = append(aptServed, fmt.Sprintf("%s %d", r.URL.Path, rw.code))
		aptReposMu.Unlock()
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

func writeKey(k *aptrepo.Key, dir string) error {
	priv, err := k.ArmoredPrivate()
	if err != nil {
		return err
	}
	pub, err := k.PublicKeyring()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "apt.key"), priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "apt.pub.gpg"), pub, 0o644)
}

// aptServed lists what the repository server answered, for a failure's log.
var aptServed []string

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func served() string {
	aptReposMu.Lock()
	defer aptReposMu.Unlock()
	return strings.Join(aptServed, "\n")
}

func serveRepo(name, dir string) {
	aptReposMu.Lock()
	aptRepos[name] = dir
	aptReposMu.Unlock()
}

// repoDebName is where mkdeb puts webui-repo for a family.
func repoDebName(family, version string) string {
	if family == "termux" {
		return fmt.Sprintf("webui-repo_%s_termux_all.deb", version)
	}
	return fmt.Sprintf("webui-repo_%s_all.deb", version)
}

// webuiBin is a webui this machine runs: the linux-amd64 build.
func webuiBin(t *testing.T, dist string) string {
	t.Helper()
	require(t, runtime.GOOS == "linux" && runtime.GOARCH == "amd64", "runs the linux-amd64 webui; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	return filepath.Join(dist, "webui-linux-amd64")
}

// publish runs `webui release repo` to add dist's .debs to repo.
func publish(t *testing.T, webui, dist, keyFile, repo string) {
	t.Helper()
	publishAt(t, webui, dist, keyFile, repo, epoch)
}

// publishAt publishes with the Release Date at, as a later build has a
// later one (apt keeps the index it has when a new Release is not newer).
func publishAt(t *testing.T, webui, dist, keyFile, repo string, at int64) {
	t.Helper()
	cmd := exec.Command(webui, "release", "repo", "--dist", dist, "--key", keyFile, "--out", repo)
	cmd.Env = append(cleanEnv("SOURCE_DATE_EPOCH"), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", at))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("webui release repo: %v\n%s", err, out)
	}
	t.Logf("webui release repo --dist %s:\n%s", filepath.Base(dist), out)
}

// aptClient is apt with its own configuration, sources, lists, cache and
// dpkg status, in a temp dir: APT_CONFIG points at a file that moves every
// Dir::* there (and skips the host's apt.conf.d), so the machine's apt
// state is neither read nor written.
type aptClient struct {
	dir, config string
}

func newAptClient(t *testing.T, sourcesLine string) *aptClient {
	t.Helper()
	tool(t, "apt-get")
	tool(t, "apt-cache")
	tool(t, "gpgv")
	d := t.TempDir()
	for _, sub := range []string{"state/lists/partial", "cache/archives/partial", "etc/sources.list.d", "etc/apt.conf.d", "etc/preferences.d", "etc/trusted.gpg.d", "log"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"status": "", "etc/sources.list": "", "etc/sources.list.d/webui.list": sourcesLine} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := strings.NewReplacer("@D@", d).Replace(`Dir::Etc::Parts "@D@/etc/apt.conf.d";
Dir::Etc::Main "/dev/null";
Dir::Etc::SourceList "@D@/etc/sources.list";
Dir::Etc::SourceParts "@D@/etc/sources.list.d";
Dir::Etc::Preferences "@D@/etc/preferences";
Dir::Etc::PreferencesParts "@D@/etc/preferences.d";
Dir::Etc::Trusted "@D@/etc/trusted.gpg";
Dir::Etc::TrustedParts "@D@/etc/trusted.gpg.d";
Dir::State "@D@/state";
Dir::State::Lists "@D@/state/lists";
Dir::State::status "@D@/status";
Dir::Cache "@D@/cache";
Dir::Log "@D@/log";
APT::Get::List-Cleanup "0";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Retries "0";
Debug::NoLocking "1";
`)
	a := &aptClient{dir: d, config: filepath.Join(d, "apt.conf")}
	if err := os.WriteFile(a.config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// run runs an apt tool in dir and returns its output, stdout and stderr
// together.
func (a *aptClient) run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv("APT_CONFIG"), "APT_CONFIG="+a.config, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// candidate is the Candidate line of `apt-cache policy webui`.
func (a *aptClient) policy(t *testing.T) (candidate, all string) {
	t.Helper()
	out, err := a.run(a.dir, "apt-cache", "policy", "webui")
	if err != nil {
		t.Fatalf("apt-cache policy webui: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "Candidate:"); ok {
			return strings.TrimSpace(c), out
		}
	}
	return "", out
}

// shippedSources is webui-repo's sources entry for Debian, as the package
// installs it, with signed-by= moved to where the package was unpacked.
func shippedSources(t *testing.T, dist string) string {
	t.Helper()
	root := t.TempDir()
	output(t, tool(t, "dpkg-deb"), "-x", filepath.Join(dist, repoDebName("linux", v1)), root)
	b, err := os.ReadFile(filepath.Join(root, "etc/apt/sources.list.d/webui.list"))
	if err != nil {
		t.Fatal(err)
	}
	want := "deb [signed-by=/usr/share/keyrings/webui-archive-keyring.gpg] " + aptRepoURL("good") + " stable main"
	if !strings.Contains(string(b), want+"\n") {
		t.Fatalf("webui-repo's webui.list:\n%s\nwant the line %q", b, want)
	}
	return strings.Replace(string(b), "signed-by=/usr/share/keyrings/", "signed-by="+root+"/usr/share/keyrings/", 1)
}

// TestAptRepository publishes the built packages with `webui release
// repo` and drives real apt against it: the signature is checked through
// signed-by with the keyring webui-repo ships, the built version is the
// candidate and downloads intact, a newer build added to the same
// repository becomes the candidate while the old one stays installable.
// The Termux indexes are checked by parsing them.
func TestAptRepository(t *testing.T) {
	t.Parallel()
	dist1 := mainDebs(t)
	webui := webuiBin(t, dist1)
	sources := shippedSources(t, dist1)
	repo := filepath.Join(t.TempDir(), "repo")
	publish(t, webui, dist1, filepath.Join(aptKeyDir, "apt.key"), repo)
	serveRepo("good", repo)

	apt := newAptClient(t, sources)
	out, err := apt.run(apt.dir, "apt-get", "update")
	t.Logf("apt-get update:\n%s", out)
	if err != nil || strings.Contains(out, "W:") || strings.Contains(out, "E:") {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	if c, all := apt.policy(t); c != v1 {
		t.Fatalf("candidate %q, want %s:\n%s", c, v1, all)
	}
	dl := t.TempDir()
	if out, err := apt.run(dl, "apt-get", "download", "webui"); err != nil {
		t.Fatalf("apt-get download webui: %v\n%s", err, out)
	}
	got, _ := filepath.Glob(filepath.Join(dl, "webui_*_amd64.deb"))
	if len(got) != 1 || sha(t, got[0]) != sha(t, debPath(dist1, v1, "linux-amd64")) {
		t.Fatalf("apt-get download: %v, not the built package", got)
	}
	checkTermuxIndexes(t, repo, v1)

	// A newer build, added to the same repository.
	dist2 := debs(t, "upgrade", v2, "termux-x86_64", "linux-amd64")
	publishAt(t, webui, dist2, filepath.Join(aptKeyDir, "apt.key"), repo, epoch+3600)
	out, err = apt.run(apt.dir, "apt-get", "update")
	t.Logf("apt-get update after the new build:\n%s", out)
	if err != nil || strings.Contains(out, "E:") {
		t.Fatalf("apt-get update after the new build: %v\n%s", err, out)
	}
	c, all := apt.policy(t)
	if c != v2 || !strings.Contains(all, " "+v1+" ") {
		t.Fatalf("after adding %s: candidate %q, want it with %s still listed:\n%s\nserved:\n%s", v2, c, v1, all, served())
	}
	checkTermuxIndexes(t, repo, v1)
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkTermuxIndexes parses binary-ARCH/Packages of each Termux arch:
// webui of that arch at version (and any newer), the Termux webui-repo,
// each stanza's Size and SHA256 those of the file it names.
func checkTermuxIndexes(t *testing.T, repo, version string) {
	t.Helper()
	for _, arch := range []string{"aarch64", "arm", "i686", "x86_64"} {
		b, err := os.ReadFile(filepath.Join(repo, "dists/stable/main/binary-"+arch+"/Packages"))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := debfile.Parse(b)
		if err != nil {
			t.Fatalf("%s Packages: %v", arch, err)
		}
		seen := map[string]bool{}
		for _, p := range ps {
			fn := filepath.Join(repo, p.Get("Filename"))
			if sha(t, fn) != p.Get("SHA256") {
				t.Errorf("%s: %s: SHA256 does not match", arch, p.Get("Filename"))
			}
			if st, err := os.Stat(fn); err != nil || fmt.Sprint(st.Size()) != p.Get("Size") {
				t.Errorf("%s: %s: Size does not match", arch, p.Get("Filename"))
			}
			switch p.Get("Package") {
			case "webui":
				if p.Get("Architecture") != arch {
					t.Errorf("%s index lists webui for %s", arch, p.Get("Architecture"))
				}
				if !strings.Contains(p.Get("Depends"), "resolv-conf") {
					t.Errorf("%s: webui without Termux's Depends: %q", arch, p.Get("Depends"))
				}
			case "webui-repo":
				paths, err := debfile.DataPaths(fn, 100)
				if err != nil || !containsPath(paths, "./data/data/com.termux/files/usr/etc/apt/sources.list.d/webui.list") {
					t.Errorf("%s: webui-repo %s is not Termux's: %v %v", arch, p.Get("Filename"), paths, err)
				}
			}
			seen[p.Get("Package")+" "+p.Get("Version")] = true
		}
		if !seen["webui "+version] || !seen["webui-repo "+version] {
			t.Errorf("%s Packages lacks webui or webui-repo %s: %v", arch, version, seen)
		}
	}
}

func containsPath(paths []string, p string) bool {
	for _, q := range paths {
		if q == p {
			return true
		}
	}
	return false
}

// TestAptRepositoryRefused: apt refuses a repository whose Packages was
// changed after signing, whose Release was changed, or that another key
// signed; webui never becomes installable from it.
func TestAptRepositoryRefused(t *testing.T) {
	t.Parallel()
	dist := mainDebs(t)
	webui := webuiBin(t, dist)
	sources := shippedSources(t, dist)
	pristine := filepath.Join(t.TempDir(), "repo")
	publish(t, webui, dist, filepath.Join(aptKeyDir, "apt.key"), pristine)

	otherKey := t.TempDir()
	k, err := aptrepo.GenerateKey("someone else", "x@example.org", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKey(k, otherKey); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, repo string)
		want   []string // one of them in apt-get update's output
	}{
		{"tampered-packages", func(t *testing.T, repo string) {
			// Point webui at other bytes, keeping the size: both forms of
			// the index change, so only the hash can tell.
			idx := filepath.Join(repo, "dists/stable/main/binary-amd64/Packages")
			b, _ := os.ReadFile(idx)
			i := bytes.Index(b, []byte("\nSHA256: ")) + len("\nSHA256: ")
			if b[i] == '0' {
				b[i] = '1'
			} else {
				b[i] = '0'
			}
			os.WriteFile(idx, b, 0o644)
			output(t, "sh", "-c", "gzip -9n < "+idx+" > "+idx+".gz")
		}, []string{"Hash Sum mismatch", "File has unexpected size"}}, // the .gz may not keep its size
		{"tampered-release", func(t *testing.T, repo string) {
			for _, f := range []string{"InRelease", "Release"} {
				p := filepath.Join(repo, "dists/stable", f)
				b, _ := os.ReadFile(p)
				os.WriteFile(p, bytes.Replace(b, []byte("Label: webui"), []byte("Label: evil!"), 1), 0o644)
			}
		}, []string{"BADSIG"}},
		{"other-key", func(t *testing.T, repo string) {
			os.RemoveAll(filepath.Join(repo, "dists"))
			publish(t, webui, dist, filepath.Join(otherKey, "apt.key"), repo)
		}, []string{"NO_PUBKEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := filepath.Join(t.TempDir(), "repo")
			output(t, "cp", "-a", pristine, repo)
			tc.mutate(t, repo)
			serveRepo(tc.name, repo)
			apt := newAptClient(t, strings.Replace(sources, aptRepoURL("good"), aptRepoURL(tc.name), 1))
			out, err := apt.run(apt.dir, "apt-get", "update")
			t.Logf("apt-get update (%s):\n%s", tc.name, out)
			if err == nil || !containsAny(out, tc.want) {
				t.Errorf("apt-get update: %v, want a failure that says %s", err, tc.want)
			}
			if c, all := apt.policy(t); c != "" && c != "(none)" {
				t.Errorf("webui is installable from the %s repository: candidate %q\n%s", tc.name, c, all)
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
