package auth

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$600000$") {
		t.Fatalf("hash %q", h)
	}
	if !Verify(h, "correct horse") || Verify(h, "correct horsf") || Verify(h, "") {
		t.Fatal("verify wrong")
	}
	h2, _ := Hash("correct horse")
	if h == h2 {
		t.Fatal("no salt")
	}
	for _, bad := range []string{"", "pbkdf2-sha256$", "pbkdf2-sha256$x$a$b", "pbkdf2-sha256$1$!!$b", "md5$1$a$b"} {
		if Verify(bad, "x") {
			t.Errorf("Verify(%q) true", bad)
		}
	}
	if _, err := Hash(""); err == nil {
		t.Error("empty password hashed")
	}
}
