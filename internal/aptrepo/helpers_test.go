package aptrepo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/termux-webui/webui/internal/debfile/debtest"
)

var (
	keyOnce sync.Once
	testKey *Key
)

// key is one signing key for the package's tests.
func key(t *testing.T) *Key {
	t.Helper()
	keyOnce.Do(func() {
		k, err := GenerateKey(KeyUID, "test@example.org", time.Now().Add(-time.Hour))
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// writeDeb writes a small .deb into dir: its one data file is dataPath,
// holding body (so two builds of one version can differ).
func writeDeb(t *testing.T, dir, pkg, version, arch, dataPath, body string) string {
	t.Helper()
	suffix := ""
	if arch == "all" && strings.HasPrefix(dataPath, "./data/data/") {
		suffix = "_termux"
	}
	path := filepath.Join(dir, fmt.Sprintf("%s_%s%s_%s.deb", pkg, version, suffix, arch))
	if err := os.WriteFile(path, debtest.Deb(pkg, version, arch, dataPath, body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// release writes one release's .debs: webui for every arch, webui-repo
// for both families.
func release(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range TermuxArches {
		writeDeb(t, dir, "webui", version, a, "./data/data/com.termux/files/usr/bin/webui", a+version)
	}
	for _, a := range DebianArches {
		writeDeb(t, dir, "webui", version, a, "./usr/bin/webui", a+version)
	}
	writeDeb(t, dir, "webui-repo", version, "all", "./data/data/com.termux/files/usr/etc/apt/sources.list.d/webui.list", "termux")
	writeDeb(t, dir, "webui-repo", version, "all", "./etc/apt/sources.list.d/webui.list", "debian")
	return dir
}

func build(t *testing.T, dist, out string, keep int) *Result {
	t.Helper()
	res, err := Build(Options{Dist: dist, Out: out, Keep: keep, Key: key(t), Date: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func armorEncode(w io.Writer) (io.WriteCloser, error) {
	return armor.Encode(w, openpgp.PublicKeyType, nil)
}
