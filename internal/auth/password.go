// Package auth hashes and checks the login password.
package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Iterations is the PBKDF2-SHA256 work factor (OWASP's 2023 figure).
const Iterations = 600_000

// MinPasswordLen is the shortest login password accepted, in bytes, by
// `webui passwd` and the console alike.
const MinPasswordLen = 8

const prefix = "pbkdf2-sha256$"

var b64 = base64.RawStdEncoding

// Hash returns "pbkdf2-sha256$ITER$SALT$KEY" for password, with a fresh salt.
func Hash(password string) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, Iterations, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%d$%s$%s", prefix, Iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches hash.
func Verify(hash, password string) bool {
	parts := strings.Split(strings.TrimPrefix(hash, prefix), "$")
	if !strings.HasPrefix(hash, prefix) || len(parts) != 3 {
		return false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[1])
	want, err2 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
