package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/rawfile"
)

// Store holds the secrets of a state directory: the access token, the
// session key and the password hash. Other processes change them (`webui
// token --rotate`, `webui passwd`), so each is re-read when its file
// changes; a stat per check is cheap next to a request.
type Store struct {
	dir      paths.State
	token    cached
	key      cached
	password cached
	// fixedHash, when set, is the password hash from the environment: it
	// wins over the file and cannot be changed here.
	fixedHash string
	// fileHash is password_hash from the config file, used while the state
	// dir holds none (configs written before it moved there).
	fileHash string
}

type cached struct {
	mu  sync.Mutex
	id  rawfile.ID
	val any
}

// get returns the value parsed from path, re-reading it when the file
// changed. load runs when the file is new or changed (or missing), and
// gives the identity of the version it read.
func (c *cached) get(path string, load func() (any, rawfile.ID, error)) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.val != nil {
		if id, err := statID(path); err == nil && id == c.id {
			return c.val, nil
		}
	}
	v, id, err := load()
	if err != nil {
		return nil, err
	}
	c.val, c.id = v, id
	return v, nil
}

func statID(path string) (rawfile.ID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return rawfile.ID{}, err
	}
	return rawfile.IDOf(&st), nil
}

// OpenStore opens the secrets of dir, creating the token and the session
// key when missing. envHash is a password hash given in the environment
// (it wins); fileHash one from the config file.
func OpenStore(dir paths.State, envHash, fileHash string) (*Store, error) {
	s := &Store{dir: dir, fixedHash: envHash, fileHash: fileHash}
	if _, err := s.tokenValue(); err != nil {
		return nil, err
	}
	if _, err := s.Key(); err != nil {
		return nil, err
	}
	if _, err := s.passwordValue(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the state directory.
func (s *Store) Dir() paths.State { return s.dir }

func (s *Store) tokenValue() (string, error) {
	v, err := s.token.get(s.dir.Token(), func() (any, rawfile.ID, error) { return loadOrCreateToken(s.dir.Token()) })
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Token is the current access token ("" when it cannot be read).
func (s *Store) Token() string {
	t, _ := s.tokenValue()
	return t
}

// CheckToken reports whether got is the current access token.
func (s *Store) CheckToken(got string) bool {
	want := s.Token()
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Key is the current session key.
func (s *Store) Key() ([]byte, error) {
	v, err := s.key.get(s.dir.SessionKey(), func() (any, rawfile.ID, error) { return loadOrCreateKey(s.dir.SessionKey()) })
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (s *Store) passwordValue() (string, error) {
	if s.fixedHash != "" {
		return s.fixedHash, nil
	}
	v, err := s.password.get(s.dir.Password(), func() (any, rawfile.ID, error) {
		b, id, err := readSecret(s.dir.Password())
		if errors.Is(err, fs.ErrNotExist) {
			return s.fileHash, id, nil
		}
		if err != nil {
			return nil, id, fmt.Errorf("password hash: %w", err)
		}
		return strings.TrimSpace(string(b)), id, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// PasswordHash is the login password's hash, "" when none is set.
func (s *Store) PasswordHash() string {
	h, _ := s.passwordValue()
	return h
}

// PasswordFixed reports whether the password comes from the environment.
func (s *Store) PasswordFixed() bool { return s.fixedHash != "" }

// SetPassword stores a new password hash and ends every session.
func (s *Store) SetPassword(hash string) error {
	if s.fixedHash != "" {
		return errors.New("the password comes from the environment (WEBUI_PASSWORD_HASH)")
	}
	if err := WritePasswordHash(s.dir, hash); err != nil {
		return err
	}
	return s.RotateKey()
}

// WritePasswordHash stores hash in dir (0600) and ends every session.
func WritePasswordHash(dir paths.State, hash string) error {
	if err := WriteSecret(dir.Password(), []byte(hash+"\n")); err != nil {
		return err
	}
	return WriteSecret(dir.SessionKey(), []byte(newKeyText()))
}

// RotateKey makes a new session key: every session ends.
func (s *Store) RotateKey() error { return WriteSecret(s.dir.SessionKey(), []byte(newKeyText())) }

// RotateToken makes a new access token and a new session key, so the old
// token stops working and everyone is signed out. It returns the token.
func RotateToken(dir paths.State) (string, error) {
	tok := NewToken()
	if err := WriteSecret(dir.Token(), []byte(tok+"\n")); err != nil {
		return "", err
	}
	if err := WriteSecret(dir.SessionKey(), []byte(newKeyText())); err != nil {
		return "", err
	}
	return tok, nil
}
