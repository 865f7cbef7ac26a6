// Package packaging_test builds the real .deb packages with cmd/mkdeb and
// checks them with the real tools: dpkg-deb, dpkg (a full install, upgrade,
// remove and purge cycle in a throwaway root), lintian, and qemu for the
// Termux aarch64 binary.
//
// A test whose tool is missing is skipped with the reason, except when
// CI=true: then it fails, so CI cannot pass by skipping. The apt packages:
//
//	dpkg lintian qemu-user-static libc6-arm64-cross util-linux
//
// (libc6-arm64-cross gives the arm64 glibc loader that stands in for
// Android's /system/bin/linker64; a libc6:arm64 loader, or one named by
// $WEBUI_ARM64_LOADER, does as well.)
package packaging_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The versions built. v2 is a newer build of the same tree, for upgrades.
const (
	v1    = "1.2.3~test1"
	v2    = "1.2.3~test2"
	epoch = 1700000000 // SOURCE_DATE_EPOCH of every build here
)

const termuxPrefix = "/data/data/com.termux/files/usr"

// target is what a package must be; the test's own copy of the table, so a
// change to mkdeb's has to agree with it.
type target struct {
	name, arch, family, goos, goarch, goarm string
}

var targets = []target{
	{"termux-aarch64", "aarch64", "termux", "android", "arm64", ""},
	{"termux-arm", "arm", "termux", "linux", "arm", "7"},
	{"termux-x86_64", "x86_64", "termux", "linux", "amd64", ""},
	{"termux-i686", "i686", "termux", "linux", "386", ""},
	{"linux-amd64", "amd64", "linux", "linux", "amd64", ""},
	{"linux-arm64", "arm64", "linux", "linux", "arm64", ""},
}

func targetNamed(name string) target {
	for _, t := range targets {
		if t.name == name {
			return t
		}
	}
	panic("no target " + name)
}

var (
	repoRoot string // the module root
	workDir  string // everything this test binary builds
	mkdeb    string // the built cmd/mkdeb
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	if _, err := os.Stat(filepath.Join(repoRoot, "nfpm.yaml")); err != nil {
		fmt.Fprintln(os.Stderr, "packaging tests: cannot find nfpm.yaml:", err)
		return 1
	}
	workDir, err = os.MkdirTemp("", "webui-packaging-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	// Build mkdeb once; every package build below runs it.
	mkdeb = filepath.Join(workDir, "mkdeb")
	cmd := exec.Command("go", "build", "-o", mkdeb, "./cmd/mkdeb")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "packaging tests: go build ./cmd/mkdeb: %v\n%s", err, out)
		return 1
	}
	// Every build ships webui-repo, with the test repository's key and URL.
	stopRepos, err := setupAptRepos()
	if err != nil {
		fmt.Fprintln(os.Stderr, "packaging tests:", err)
		return 1
	}
	defer stopRepos()
	return m.Run()
}

// require skips the test (or, under CI=true, fails it) unless ok.
func require(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this test must run, not skip)", msg)
	}
	t.Skipf("skipping: %s", msg)
}

// aptPackage names the Debian package of a tool, for skip messages.
var aptPackage = map[string]string{
	"dpkg":                "dpkg",
	"dpkg-deb":            "dpkg",
	"lintian":             "lintian",
	"qemu-aarch64-static": "qemu-user-static",
	"unshare":             "util-linux",
	"chroot":              "coreutils",
	"apt-get":             "apt",
	"apt-cache":           "apt",
	"gpgv":                "gpgv",
}

// tool returns the path of an installed tool, or skips (fails under CI).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	require(t, err == nil, "%s is not installed (apt-get install %s)", name, aptPackage[name])
	return p
}

// build is one run of mkdeb, shared by every test that needs it.
type build struct {
	once    sync.Once
	dist    string
	log     string
	err     error
	elapsed time.Duration
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// debs builds (once per test binary) the packages of the given targets at
// version, into a dist directory named by key, and returns the dist
// directory. Tests that share a key share the build.
func debs(t *testing.T, key, version string, names ...string) string {
	t.Helper()
	buildsMu.Lock()
	b, ok := builds[key]
	if !ok {
		b = &build{dist: filepath.Join(workDir, key)}
		builds[key] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		start := time.Now()
		b.log, b.err = runMkdeb(b.dist, version, names...)
		b.elapsed = time.Since(start)
	})
	if b.err != nil {
		t.Fatalf("mkdeb (%s): %v\n%s", key, b.err, b.log)
	}
	t.Logf("build %q: %s %v in %s", key, version, names, b.elapsed.Round(time.Millisecond))
	return b.dist
}

// runMkdeb runs mkdeb with a clean, fixed environment: VERSION and
// SOURCE_DATE_EPOCH from the caller's shell must not leak in.
func runMkdeb(dist, version string, names ...string) (string, error) {
	cmd := exec.Command(mkdeb, "--config", filepath.Join(repoRoot, "nfpm.yaml"), "--dist", dist,
		"--version", version, "--only", strings.Join(names, ","),
		"--apt-pubkey", filepath.Join(aptKeyDir, "apt.pub.gpg"), "--repo-url", aptRepoURL("good"))
	cmd.Dir = repoRoot
	cmd.Env = append(cleanEnv("VERSION", "SOURCE_DATE_EPOCH"), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

func cleanEnv(drop ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}

// debPath is where mkdeb put the package of target name at version.
func debPath(dist, version, name string) string {
	return filepath.Join(dist, fmt.Sprintf("webui_%s_%s.deb", version, targetNamed(name).arch))
}

// mainDebs is the build most tests share: every target at v1.
func mainDebs(t *testing.T) string {
	t.Helper()
	names := make([]string, len(targets))
	for i, tg := range targets {
		names[i] = tg.name
	}
	return debs(t, "main", v1, names...)
}

// output runs a command and returns its stdout, failing the test (with the
// stderr) if it fails.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// exists reports whether a source file of the tree exists: some package
// contents are optional until their files land.
func exists(rel string) bool {
	_, err := os.Stat(filepath.Join(repoRoot, rel))
	return err == nil
}
