package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The apt repository's key and its refusals: apt-key writes a secret key
// only its owner reads and never overwrites one; repo refuses a public
// key, a bad SOURCE_DATE_EPOCH and an empty dist, each with one line.
// (test/packaging builds a real repository and runs apt against it.)
func TestReleaseAptKey(t *testing.T) {
	t.Parallel()
	keys := filepath.Join(t.TempDir(), "keys")
	code, out, stderr := runCLI(t, nil, "release", "apt-key", "--out", keys)
	if code != 0 {
		t.Fatalf("apt-key: %d %s", code, stderr)
	}
	key, pub := filepath.Join(keys, "apt.key"), filepath.Join(keys, "apt.pub.gpg")
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("apt.key: %v %v", st, err)
	}
	b, _ := os.ReadFile(key)
	p, _ := os.ReadFile(pub)
	if !strings.HasPrefix(string(b), "-----BEGIN PGP PRIVATE KEY BLOCK-----") || len(p) == 0 || p[0]&0x80 == 0 {
		t.Fatalf("apt.key is not an armored secret key, or apt.pub.gpg not a binary key:\n%s", b)
	}
	if !strings.Contains(out, "APT_PUBKEY="+pub) {
		t.Errorf("apt-key output does not say how to ship the key:\n%s", out)
	}
	if code, _, stderr := runCLI(t, nil, "release", "apt-key", "--out", keys); code != 2 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("second apt-key: %d %s", code, stderr)
	}
	if after, _ := os.ReadFile(key); string(after) != string(b) {
		t.Error("the second apt-key changed apt.key")
	}

	dist, repo := t.TempDir(), filepath.Join(t.TempDir(), "repo")
	for _, tc := range []struct {
		env  []string
		args []string
		code int
		want string
	}{
		{nil, []string{"--dist", dist, "--out", repo}, 2, "--key FILE and --out REPO are required"},
		{nil, []string{"--dist", dist, "--key", pub, "--out", repo}, 2, "not an armored OpenPGP key"},
		{[]string{"SOURCE_DATE_EPOCH=yesterday"}, []string{"--dist", dist, "--key", key, "--out", repo}, 2, "SOURCE_DATE_EPOCH"},
		{nil, []string{"--dist", dist, "--key", key, "--out", repo}, 1, "no .deb packages in"},
		{nil, []string{"--dist", dist, "--key", key, "--out", repo, "--keep", "-1"}, 2, "must not be negative"},
	} {
		code, _, stderr := runCLI(t, tc.env, append([]string{"release", "repo"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("release repo %v: %d %q, want %d and %q in one line", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "dists")); err == nil {
		t.Error("a refused build wrote dists/")
	}
}
