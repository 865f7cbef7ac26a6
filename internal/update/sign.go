package update

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// BuiltinKeys are the release public keys every webui build trusts, comma
// separated base64 ed25519 keys.
//
// It is empty on purpose in the source tree: a key is only worth trusting
// if its private half is held by whoever publishes releases, and no such
// key exists for this tree yet. An empty list fails closed: an update check
// or apply says that no release key is trusted and that update_keys (or
// this variable) must name one; a key nobody can sign with would only fail
// later with a less helpful "signature does not match".
//
// A maintainer who publishes releases sets it at build time, without
// editing code:
//
//	go build -ldflags "-X github.com/termux-webui/webui/internal/update.BuiltinKeys=$(cat release.pub)" ./cmd/webui
//
// (several keys, comma separated, during a key rotation), or commits the
// public key here. Users can always add keys with update_keys.
var BuiltinKeys = ""

// GenerateKey makes a release key pair, both halves base64 (std encoding).
// The private half is the 64-byte ed25519 private key.
func GenerateKey() (pub, priv string, err error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(pk), base64.StdEncoding.EncodeToString(sk), nil
}

// ParsePublicKey reads a base64 ed25519 public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("release key %q is not a base64 ed25519 public key (%d bytes)", clip(s), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads a base64 ed25519 private key: the 64-byte key that
// GenerateKey writes, or its 32-byte seed.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("private key is not base64")
	}
	switch len(b) {
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(b), nil
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	}
	return nil, fmt.Errorf("private key is %d bytes; an ed25519 key is %d (or a %d-byte seed)", len(b), ed25519.PrivateKeySize, ed25519.SeedSize)
}

// Sign returns the signature file content for data: base64 and a newline.
func Sign(key ed25519.PrivateKey, data []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, data)) + "\n")
}

// ErrNoKeys means no release key is trusted, so nothing can be verified.
var ErrNoKeys = errors.New("no release key is trusted: set update_keys (--update-keys, WEBUI_UPDATE_KEYS) to the publisher's base64 ed25519 public key")

// Verify checks sig (the content of a .sig file: base64, surrounding
// whitespace ignored) over data against every key, and returns the index of
// the key that signed it. Several keys make key rotation possible: a
// release signed by the old or the new key verifies while both are trusted.
func Verify(keys []ed25519.PublicKey, data, sig []byte) (int, error) {
	if len(keys) == 0 {
		return -1, ErrNoKeys
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
	if err != nil || len(raw) != ed25519.SignatureSize {
		return -1, errors.New("signature is not a base64 ed25519 signature")
	}
	for i, k := range keys {
		if ed25519.Verify(k, data, raw) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("signature does not match any of the %d trusted release keys (tampered, or signed by a key that is not trusted)", len(keys))
}

// TrustedKeys parses the built-in keys and extra (update_keys). A bad
// extra key is an error that names it: a typo must not silently leave a
// publisher untrusted.
func TrustedKeys(extra []string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for _, s := range strings.Split(BuiltinKeys, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := ParsePublicKey(s)
		if err != nil {
			return nil, fmt.Errorf("built-in %w", err)
		}
		out = append(out, k)
	}
	for _, s := range extra {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := ParsePublicKey(s)
		if err != nil {
			return nil, fmt.Errorf("update_keys: %w", err)
		}
		out = append(out, k)
	}
	return out, nil
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 16 {
		return s[:12] + "..."
	}
	return s
}
