package auth

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"
)

// MaxRevoked bounds the list of logged-out sessions. A logout beyond it
// rotates the session key instead, which signs everyone out: safe, and
// it only happens after thousands of logouts within a session lifetime.
const MaxRevoked = 4096

// ErrRevokedFull says the list is full; the caller rotates the key.
var ErrRevokedFull = errors.New("too many logged-out sessions")

// Revoked is the list of sessions logged out before their expiry, kept in
// a file (id -> expiry, unix seconds) so a logout survives restarts.
// Entries drop out once the cookie would have expired anyway.
type Revoked struct {
	mu   sync.Mutex
	path string
	ids  map[string]int64
	max  int
}

// LoadRevoked reads the list at path; a missing or damaged file is empty
// (a damaged one is rewritten on the next logout).
func LoadRevoked(path string) *Revoked {
	r := &Revoked{path: path, ids: map[string]int64{}, max: MaxRevoked}
	if b, err := ReadSecret(path); err == nil {
		_ = json.Unmarshal(b, &r.ids)
	} else if !errors.Is(err, fs.ErrNotExist) {
		r.ids = map[string]int64{}
	}
	return r
}

// Has reports whether session id was logged out.
func (r *Revoked) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// Add logs session id out until exp and saves the list.
func (r *Revoked) Add(id string, exp, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.ids {
		if e <= now.Unix() {
			delete(r.ids, k)
		}
	}
	if len(r.ids) >= r.max {
		return ErrRevokedFull
	}
	r.ids[id] = exp.Unix()
	return r.save()
}

// Clear empties the list: after a key rotation no old session verifies.
func (r *Revoked) Clear() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = map[string]int64{}
	err := os.Remove(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return err
}

func (r *Revoked) save() error {
	b, err := json.Marshal(r.ids)
	if err != nil {
		return err
	}
	return WriteSecret(r.path, b)
}
