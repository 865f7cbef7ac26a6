package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"

	"github.com/termux-webui/webui/internal/rawfile"
)

// TokenPrefix starts every access token, so that redaction can find tokens
// by their content wherever they turn up (logs, traces, bundles).
const TokenPrefix = "wut_"

// NewToken returns a fresh access token: 256 random bits, base64url.
func NewToken() string { return TokenPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return b
}

// WriteSecret replaces path with data, mode 0600 whatever the old file's
// mode or the umask: temp file, fsync, rename, fsync of the directory.
func WriteSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := renameio.WriteFile(path, data, 0o600, renameio.WithStaticPermissions(0o600)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	matchDirOwner(path)
	syncDir(filepath.Dir(path))
	return nil
}

// matchDirOwner gives a secret that root wrote to the state dir's owner
// (the service account), which must read it.
func matchDirOwner(path string) {
	if os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && s.Uid != 0 {
		_ = os.Lchown(path, int(s.Uid), int(s.Gid))
	}
}

// createSecret writes data to path only if path does not exist yet (a
// hard link of a complete temp file), so two processes creating the same
// secret at once agree on one value. It returns the file's content.
func createSecret(path string, data []byte) ([]byte, rawfile.ID, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, rawfile.ID{}, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return nil, rawfile.ID{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, rawfile.ID{}, err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, rawfile.ID{}, err
	}
	matchDirOwner(path)
	syncDir(dir)
	return readSecret(path)
}

// maxSecret bounds what is read of a secret file (the revoked-session
// list is the largest).
const maxSecret = 1 << 20

// ReadSecret reads a secret file. A file that others may read is made
// 0600 first; one that cannot be fixed is an error, not a leak.
func ReadSecret(path string) ([]byte, error) {
	b, _, err := readSecret(path)
	return b, err
}

// readSecret is ReadSecret through one descriptor: its fstat gives the
// mode to check and the identity a cached value is kept under, of the
// very bytes read.
func readSecret(path string) ([]byte, rawfile.ID, error) {
	f, err := rawfile.Open(path)
	if err != nil {
		return nil, rawfile.ID{}, err
	}
	defer f.Close()
	if perm := f.Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, rawfile.ID{}, fmt.Errorf("%s is readable by others (mode %04o) and cannot be made 0600: %w", path, perm, err)
		}
	}
	b, err := f.ReadAll(maxSecret)
	if err != nil {
		return nil, rawfile.ID{}, fmt.Errorf("%s: %w", path, err)
	}
	return b, f.ID(), nil
}

// LoadOrCreateToken returns the access token in path, making one first
// when there is none.
func LoadOrCreateToken(path string) (string, error) {
	tok, _, err := loadOrCreateToken(path)
	return tok, err
}

func loadOrCreateToken(path string) (string, rawfile.ID, error) {
	b, id, err := readSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, id, err = createSecret(path, []byte(NewToken()+"\n"))
	}
	if err != nil {
		return "", id, fmt.Errorf("access token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 43 {
		return "", id, fmt.Errorf("access token %s is too short: run `webui token --rotate`", path)
	}
	return tok, id, nil
}

// loadOrCreateKey returns the session key in path, making one first when
// there is none.
func loadOrCreateKey(path string) ([]byte, rawfile.ID, error) {
	b, id, err := readSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, id, err = createSecret(path, []byte(newKeyText()))
	}
	if err != nil {
		return nil, id, fmt.Errorf("session key: %w", err)
	}
	key, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, id, fmt.Errorf("session key %s is damaged: delete it (everyone is signed out)", path)
	}
	return key, id, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func newKeyText() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) + "\n" }
