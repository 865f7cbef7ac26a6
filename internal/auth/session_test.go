package auth

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

func TestSessionCookie(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	v := SignSession(key, "abc", now.Add(time.Hour))
	if id, exp, ok := VerifySession(key, v, now); !ok || id != "abc" || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("verify: %q %v %v", id, exp, ok)
	}
	if _, _, ok := VerifySession(key, v, now.Add(time.Hour)); ok {
		t.Fatal("expired cookie accepted")
	}
	if _, _, ok := VerifySession([]byte("another key another key another!"), v, now); ok {
		t.Fatal("cookie of another key accepted")
	}
	// The expiry is inside the MAC: pushing it out breaks the cookie.
	parts := strings.Split(v, ".")
	parts[2] = "9999999999"
	if _, _, ok := VerifySession(key, strings.Join(parts, "."), now); ok {
		t.Fatal("a cookie with an edited expiry was accepted")
	}
}

// FuzzVerifySession: the verifier never panics, and accepts only what
// SignSession made under the same key.
func FuzzVerifySession(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	f.Add(SignSession(key, "abc", now.Add(time.Hour)))
	f.Add("wus1.a.1.b")
	f.Add("wus1...")
	f.Add("wus1.x.-5." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, v string) {
		id, exp, ok := VerifySession(key, v, now)
		if !ok {
			return
		}
		if !exp.After(now) || SignSession(key, id, exp) != v {
			t.Fatalf("accepted %q (id %q, exp %v) that SignSession would not make", v, id, exp)
		}
	})
}

func TestTicket(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now()
	tk := SignTicket(key, now.Add(TicketLifetime))
	if !strings.HasPrefix(tk, TokenPrefix) {
		t.Fatalf("ticket %q lacks the token prefix (redaction finds it by it)", tk)
	}
	n1, _, ok := VerifyTicket(key, tk, now)
	if !ok || n1 == "" {
		t.Fatal("fresh ticket refused")
	}
	if _, _, ok := VerifyTicket(key, tk, now.Add(TicketLifetime+time.Second)); ok {
		t.Fatal("expired ticket accepted")
	}
	if _, _, ok := VerifyTicket(key, SignTicket(key, now.Add(time.Hour)), now); ok {
		t.Fatal("a ticket valid for longer than TicketLifetime was accepted")
	}
}

func TestStoreSecrets(t *testing.T) {
	dir := paths.State(filepath.Join(t.TempDir(), "state"))
	s, err := OpenStore(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Token()
	for _, f := range []string{dir.Token(), dir.SessionKey()} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st, err)
		}
	}
	if st, _ := os.Stat(string(dir)); st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v", st.Mode())
	}
	// Another process rotates: this one sees it at the next check.
	key1, _ := s.Key()
	tok2, err := RotateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.CheckToken(tok) || !s.CheckToken(tok2) {
		t.Fatal("rotation not seen")
	}
	if key2, _ := s.Key(); string(key1) == string(key2) {
		t.Fatal("rotation kept the session key")
	}
	// A secret made readable by others is made 0600 again when read.
	os.Chmod(dir.Token(), 0o644)
	if _, err := LoadOrCreateToken(dir.Token()); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir.Token()); st.Mode().Perm() != 0o600 {
		t.Fatalf("token mode after read: %v", st.Mode())
	}
	if s.PasswordHash() != "" {
		t.Fatal("password without one set")
	}
	if err := s.SetPassword("pbkdf2-sha256$1$a$b"); err != nil || s.PasswordHash() != "pbkdf2-sha256$1$a$b" {
		t.Fatalf("SetPassword: %v %q", err, s.PasswordHash())
	}
	env, _ := OpenStore(dir, "pbkdf2-sha256$1$env$x", "")
	if env.PasswordHash() != "pbkdf2-sha256$1$env$x" || env.SetPassword("x") == nil {
		t.Fatal("the environment's hash does not win")
	}
}

func TestRevokedBounded(t *testing.T) {
	r := LoadRevoked(filepath.Join(t.TempDir(), "revoked"))
	r.max = 20 // each logout writes the file: keep the test quick
	now := time.Now()
	for i := 0; i < r.max; i++ {
		if err := r.Add(string(rune('a'+i%26))+time.Duration(i).String(), now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Add("one more", now.Add(time.Hour), now); err != ErrRevokedFull {
		t.Fatalf("past the cap: %v", err)
	}
	// Expired entries make room.
	if err := r.Add("later", now.Add(3*time.Hour), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !LoadRevoked(r.path).Has("later") {
		t.Fatal("a logout did not survive a reload")
	}
}

// A FIFO planted where a secret belongs is an error at once, not a start
// that waits forever for a writer.
func TestSecretFIFO(t *testing.T) {
	dir := paths.State(t.TempDir())
	if err := syscall.Mkfifo(dir.Token(), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := OpenStore(dir, "", ""); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("OpenStore with a FIFO token: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OpenStore waited on a FIFO")
	}
}
