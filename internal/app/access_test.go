package app_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/paths"
)

// tokenOf is the token in a sign-in link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Scheme != "http" {
		t.Fatalf("sign-in link %q: %v", link, err)
	}
	return u.Query().Get("token")
}

// `webui url` and `webui token` agree on one token, made on first use,
// kept 0600 in the state dir; --rotate replaces it.
func TestURLAndToken(t *testing.T) {
	s := newSandbox(t)
	r := s.run(app.URL, "")
	r.expect(t, exitcode.OK, "")
	tok := tokenOf(t, r.stdout)
	if !strings.HasPrefix(tok, auth.TokenPrefix) || !strings.HasPrefix(r.stdout, "http://"+s.env["WEBUI_ADDR"]+"/") {
		t.Fatalf("url printed %q", r.stdout)
	}
	st, err := os.Stat(paths.State(s.state).Token())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", st, err)
	}
	r = s.run(app.Token, "")
	r.expect(t, exitcode.OK, "")
	if strings.TrimSpace(r.stdout) != tok {
		t.Errorf("token %q, url's %q", r.stdout, tok)
	}
	if again := tokenOf(t, s.run(app.URL, "").stdout); again != tok {
		t.Errorf("url made a new token: %q, then %q", tok, again)
	}

	r = s.run(app.Token, "", "--rotate")
	r.expect(t, exitcode.OK, "")
	rotated := tokenOf(t, r.stdout)
	if rotated == tok || !strings.Contains(r.stderr, "signed out") {
		t.Errorf("--rotate: %s", r)
	}
	if now := strings.TrimSpace(s.run(app.Token, "").stdout); now != rotated {
		t.Errorf("token after --rotate %q, want %q", now, rotated)
	}
}

func TestURLPublicAndWildcard(t *testing.T) {
	s := newSandbox(t)
	s.env["WEBUI_ADDR"] = "0.0.0.0:9123"
	s.env["WEBUI_PUBLIC_URL"] = "https://phone.example.ts.net"
	r := s.run(app.URL, "")
	r.expect(t, exitcode.OK, "")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "http://127.0.0.1:9123/") || !strings.HasPrefix(lines[1], "https://phone.example.ts.net/") ||
		tokenOf(t, strings.Replace(lines[1], "https", "http", 1)) != tokenOf(t, lines[0]) {
		t.Errorf("url printed %q", r.stdout)
	}
}

func TestSignInURL(t *testing.T) {
	cases := []struct{ addr, prefix string }{
		{"127.0.0.1:8787", "http://127.0.0.1:8787/"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/"},
		{"localhost:1", "http://127.0.0.1:1/"},
		{"[::]:9001", "http://[::1]:9001/"},
		{":8080", "http://127.0.0.1:8080/"},
		{"192.168.1.9:8787", "http://192.168.1.9:8787/"},
		{"garbage", "http://127.0.0.1:8787/"},
	}
	for _, c := range cases {
		got := app.SignInURL(c.addr, "wut_a+b")
		if !strings.HasPrefix(got, c.prefix) || !strings.HasSuffix(got, "?token=wut_a%2Bb") {
			t.Errorf("SignInURL(%q) = %q, want %s...?token=wut_a%%2Bb", c.addr, got, c.prefix)
		}
	}
}

// A state dir webui cannot write is a runtime failure with one line.
func TestTokenUnwritableStateDir(t *testing.T) {
	s := newSandbox(t)
	s.write(s.state, "a file where the state dir should be")
	s.run(app.URL, "").expect(t, exitcode.Failure, s.state)
	s.run(app.Token, "").expect(t, exitcode.Failure, s.state)
}

// `webui passwd` refuses what would leave the owner locked out or
// mistaken, and changes nothing when it does.
func TestPasswdRefusals(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		env   map[string]string
		want  string
	}{
		{"nothing on stdin", "", nil, "no password on stdin"},
		{"too short", "short\n", nil, "at least 8 characters"},
		{"one byte short", strings.Repeat("x", auth.MinPasswordLen-1) + "\n", nil, "too short"},
		{"the environment wins", "long enough\n", map[string]string{"WEBUI_PASSWORD_HASH": cheapHash(t, "other password")}, "WEBUI_PASSWORD_HASH is set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			for k, v := range c.env {
				s.env[k] = v
			}
			s.run(app.Passwd, c.stdin).expect(t, exitcode.Usage, c.want)
			if _, err := os.Stat(paths.State(s.state).Password()); !os.IsNotExist(err) {
				t.Errorf("a refused passwd wrote %s: %v", paths.State(s.state).Password(), err)
			}
		})
	}
}

// cheapHash is a hash in auth's format with one PBKDF2 round: the real
// work factor takes seconds under the race detector.
func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, pw, salt, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawStdEncoding
	h := "pbkdf2-sha256$1$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
	if !auth.Verify(h, pw) {
		t.Fatalf("cheapHash %q does not verify", h)
	}
	return h
}

// A password from a pipe is set in the state dir (0600), and one that an
// older version left in the config file is taken out of it.
func TestPasswdSets(t *testing.T) {
	s := newSandbox(t)
	s.write(s.cf, "addr = 127.0.0.1:9999\npassword_hash = "+cheapHash(t, "old password")+"\n")
	pw := strings.Repeat("p", auth.MinPasswordLen)
	r := s.run(app.Passwd, pw+"\n")
	r.expect(t, exitcode.OK, "")
	file := paths.State(s.state).Password()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v", st.Mode().Perm())
	}
	if h := strings.TrimSpace(string(b)); !strings.HasPrefix(h, "pbkdf2-sha256$") || !auth.Verify(h, pw) {
		t.Errorf("the saved hash does not verify the new password")
	}
	conf, _ := os.ReadFile(s.cf)
	if strings.Contains(string(conf), "password_hash") || !strings.Contains(string(conf), "addr = 127.0.0.1:9999") {
		t.Errorf("config file after passwd:\n%s", conf)
	}
}
