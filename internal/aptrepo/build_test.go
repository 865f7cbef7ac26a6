package aptrepo

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/termux-webui/webui/internal/debfile"
)

func packages(t *testing.T, repo, arch string) []debfile.Paragraph {
	t.Helper()
	ps, err := debfile.Parse(readFile(t, filepath.Join(repo, "dists/stable/main/binary-"+arch+"/Packages")))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestBuildLayout(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	res := build(t, release(t, "1.0.0"), repo, 0)
	if len(res.Added) != 8 || res.Indexed != 8 {
		t.Fatalf("added %v, indexed %d", res.Added, res.Indexed)
	}
	for _, arch := range append(append([]string{}, TermuxArches...), DebianArches...) {
		ps := packages(t, repo, arch)
		if len(ps) != 2 {
			t.Fatalf("%s: %d stanzas, want webui and webui-repo", arch, len(ps))
		}
		fam := archFamily(arch)
		for _, p := range ps {
			fn := p.Get("Filename")
			b := readFile(t, filepath.Join(repo, fn))
			sum := sha256.Sum256(b)
			if p.Get("SHA256") != hex.EncodeToString(sum[:]) || p.Get("Size") != itoa(len(b)) {
				t.Errorf("%s %s: Size/SHA256 do not match %s", arch, p.Get("Package"), fn)
			}
			if p.Get("Package") == "webui" && p.Get("Architecture") != arch {
				t.Errorf("%s index lists %s", arch, p.Get("Architecture"))
			}
			if p.Get("Package") == "webui-repo" && !strings.Contains(fn, "/"+fam+"/") {
				t.Errorf("%s index has the wrong family's webui-repo: %s", arch, fn)
			}
			if !strings.HasPrefix(p.Get("Description"), "test package\n a longer text") {
				t.Errorf("Description %q", p.Get("Description"))
			}
		}
		gz := readFile(t, filepath.Join(repo, "dists/stable/main/binary-"+arch+"/Packages.gz"))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if !bytes.Equal(plain, readFile(t, filepath.Join(repo, "dists/stable/main/binary-"+arch+"/Packages"))) {
			t.Errorf("%s: Packages.gz is not Packages", arch)
		}
	}
	checkRelease(t, repo)
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkRelease verifies both signatures with the public key alone and
// every index against the Release file's sizes and hashes.
func checkRelease(t *testing.T, repo string) {
	t.Helper()
	suite := filepath.Join(repo, "dists/stable")
	release := readFile(t, filepath.Join(suite, "Release"))
	pub, err := key(t).PublicKeyring()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := openpgp.ReadKeyRing(bytes.NewReader(pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(release), bytes.NewReader(readFile(t, filepath.Join(suite, "Release.gpg"))), nil); err != nil {
		t.Errorf("Release.gpg: %v", err)
	}
	block, _ := clearsign.Decode(readFile(t, filepath.Join(suite, "InRelease")))
	if block == nil {
		t.Fatal("InRelease is not clearsigned")
	}
	if _, err := block.VerifySignature(ring, nil); err != nil {
		t.Errorf("InRelease: %v", err)
	}
	if !bytes.Equal(bytes.TrimSuffix(block.Plaintext, []byte("\n")), bytes.TrimSuffix(release, []byte("\n"))) {
		t.Errorf("InRelease does not hold Release:\n%s\n---\n%s", block.Plaintext, release)
	}
	r, err := debfile.ParseOne(release)
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("Architectures") != "aarch64 amd64 arm arm64 i686 x86_64" || r.Get("Components") != "main" || r.Get("Date") != "Tue, 14 Nov 2023 22:13:20 UTC" {
		t.Errorf("Release fields: %s", release)
	}
	lines := strings.Split(r.Get("SHA256"), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d SHA256 lines, want 12", len(lines))
	}
	for _, l := range lines {
		f := strings.Fields(l)
		b := readFile(t, filepath.Join(suite, f[2]))
		sum := sha256.Sum256(b)
		if f[0] != hex.EncodeToString(sum[:]) || f[1] != itoa(len(b)) {
			t.Errorf("Release line %q does not match the file", l)
		}
	}
}

func TestBuildReproducible(t *testing.T) {
	t.Parallel()
	dist := release(t, "1.0.0")
	a, b := t.TempDir(), t.TempDir()
	build(t, dist, a, 0)
	build(t, dist, b, 0)
	n := 0
	filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if d.IsDir() || d.Name() == "InRelease" || d.Name() == "Release.gpg" {
			return err
		}
		r, _ := filepath.Rel(a, path)
		if !bytes.Equal(readFile(t, path), readFile(t, filepath.Join(b, r))) {
			t.Errorf("%s differs between two builds", r)
		}
		n++
		return nil
	})
	if n != 8+12+1 {
		t.Errorf("compared %d files", n)
	}
}

func TestBuildAddsAndKeeps(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	build(t, release(t, "1.0.0"), repo, 2)
	build(t, release(t, "1.1.0~rc1"), repo, 2)
	if res := build(t, release(t, "1.0.0"), repo, 2); len(res.Added) != 0 || len(res.Present) != 8 {
		t.Errorf("rebuilding a published release: added %v, present %d", res.Added, len(res.Present))
	}
	versions := func() []string {
		var v []string
		for _, p := range packages(t, repo, "aarch64") {
			if p.Get("Package") == "webui" {
				v = append(v, p.Get("Version"))
			}
		}
		return v
	}
	if got := strings.Join(versions(), " "); got != "1.0.0 1.1.0~rc1" {
		t.Errorf("after two releases: %s", got)
	}
	res := build(t, release(t, "1.1.0"), repo, 2)
	if got := strings.Join(versions(), " "); got != "1.1.0~rc1 1.1.0" {
		t.Errorf("after three releases, keep 2: %s", got)
	}
	if len(res.Pruned) != 8 {
		t.Errorf("pruned %v", res.Pruned)
	}
	if _, err := os.Stat(filepath.Join(repo, "pool/main/w/webui/webui_1.0.0_aarch64.deb")); !os.IsNotExist(err) {
		t.Errorf("the pruned 1.0.0 is still in the pool: %v", err)
	}
	checkRelease(t, repo)
	if left, _ := filepath.Glob(filepath.Join(repo, "dists", ".*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestBuildRefusesChangedVersion(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	build(t, release(t, "1.0.0"), repo, 0)
	before := readFile(t, filepath.Join(repo, "dists/stable/Release"))
	dist := t.TempDir()
	writeDeb(t, dist, "webui", "1.0.0", "amd64", "./usr/bin/webui", "different bytes")
	_, err := Build(Options{Dist: dist, Out: repo, Key: key(t), Date: time.Unix(1700000001, 0)})
	if err == nil || !strings.Contains(err.Error(), "must not change") {
		t.Fatalf("err %v", err)
	}
	if !bytes.Equal(before, readFile(t, filepath.Join(repo, "dists/stable/Release"))) {
		t.Error("the refused build changed the Release file")
	}
}

func TestBuildBadInput(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	if _, err := Build(Options{Dist: empty, Out: t.TempDir(), Key: key(t)}); err == nil || !strings.Contains(err.Error(), "no .deb packages") {
		t.Errorf("empty dist: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.deb"), []byte("#!/bin/sh\n"), 0o644)
	if _, err := Build(Options{Dist: bad, Out: t.TempDir(), Key: key(t)}); err == nil || !strings.Contains(err.Error(), "not a .deb") {
		t.Errorf("a script named .deb: %v", err)
	}
	other := t.TempDir()
	writeDeb(t, other, "webui", "1.0.0", "mips", "./usr/bin/webui", "x")
	if _, err := Build(Options{Dist: other, Out: t.TempDir(), Key: key(t)}); err == nil || !strings.Contains(err.Error(), `Architecture "mips"`) {
		t.Errorf("unknown arch: %v", err)
	}
	if _, err := Build(Options{Dist: release(t, "1.0.0"), Out: t.TempDir(), Key: key(t), Suite: "../x"}); err == nil {
		t.Error("a suite with a path in it was taken")
	}
}

func TestReadKey(t *testing.T) {
	t.Parallel()
	priv, err := key(t).ArmoredPrivate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ReadKey(priv)
	if err != nil || k.Fingerprint() != key(t).Fingerprint() {
		t.Fatalf("round trip: %v", err)
	}
	pub, _ := key(t).PublicKeyring()
	var armoredPub bytes.Buffer
	w, _ := armorEncode(&armoredPub)
	w.Write(pub)
	w.Close()
	for name, in := range map[string][]byte{"garbage": []byte("not a key"), "public key": armoredPub.Bytes()} {
		if _, err := ReadKey(in); err == nil {
			t.Errorf("%s read as a signing key", name)
		}
	}
	sig, err := k.DetachSign([]byte("x"), time.Now())
	if err != nil || !bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Errorf("DetachSign: %v %q", err, sig)
	}
}

func TestBuildValidUntil(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	if _, err := Build(Options{Dist: release(t, "1.0.0"), Out: repo, Key: key(t), Date: time.Unix(1700000000, 0), ValidFor: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	r, err := debfile.ParseOne(readFile(t, filepath.Join(repo, "dists/stable/Release")))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Get("Valid-Until"); got != "Thu, 16 Nov 2023 22:13:20 UTC" {
		t.Errorf("Valid-Until %q", got)
	}
	checkRelease(t, repo)
}
