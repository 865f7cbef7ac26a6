package update

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func mustKey(t *testing.T) (string, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pub, k
}

func TestSignVerifyRotation(t *testing.T) {
	t.Parallel()
	oldPub, oldKey := mustKey(t)
	newPub, newKey := mustKey(t)
	_, strangerKey := mustKey(t)
	keys, err := TrustedKeys([]string{oldPub, " " + newPub + " ", ""})
	if err != nil || len(keys) != 2 {
		t.Fatalf("TrustedKeys: %d keys, %v", len(keys), err)
	}
	data := []byte(`{"schema":1}`)

	// During a rotation both keys verify, and Verify says which one.
	if i, err := Verify(keys, data, Sign(oldKey, data)); err != nil || i != 0 {
		t.Errorf("old key: %d %v", i, err)
	}
	if i, err := Verify(keys, data, Sign(newKey, data)); err != nil || i != 1 {
		t.Errorf("new key: %d %v", i, err)
	}
	// Whitespace around the base64 is fine.
	if _, err := Verify(keys, data, []byte("\n  "+strings.TrimSpace(string(Sign(newKey, data)))+"  \n")); err != nil {
		t.Errorf("padded signature: %v", err)
	}
	if _, err := Verify(keys, data, Sign(strangerKey, data)); err == nil || !strings.Contains(err.Error(), "does not match any of the 2 trusted") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Verify(keys, append(data, ' '), Sign(oldKey, data)); err == nil {
		t.Error("tampered data verified")
	}
	if _, err := Verify(keys, data, []byte("not base64!")); err == nil || !strings.Contains(err.Error(), "not a base64 ed25519 signature") {
		t.Errorf("garbage signature: %v", err)
	}
	if _, err := Verify(nil, data, Sign(oldKey, data)); !errors.Is(err, ErrNoKeys) {
		t.Errorf("no keys: %v", err)
	}
	// After the rotation only the new key is trusted.
	keys, _ = TrustedKeys([]string{newPub})
	if _, err := Verify(keys, data, Sign(oldKey, data)); err == nil {
		t.Error("retired key still verifies")
	}
}

func TestKeyParsing(t *testing.T) {
	t.Parallel()
	if _, err := TrustedKeys([]string{"AAAA"}); err == nil || !strings.Contains(err.Error(), "update_keys") {
		t.Errorf("short key: %v", err)
	}
	if _, err := ParsePublicKey("%%%"); err == nil {
		t.Error("garbage public key parsed")
	}
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	k, err := ParsePrivateKey(base64.StdEncoding.EncodeToString(seed))
	if err != nil || !k.Equal(ed25519.NewKeyFromSeed(seed)) {
		t.Errorf("seed: %v", err)
	}
	if _, err := ParsePrivateKey(base64.StdEncoding.EncodeToString([]byte("short"))); err == nil {
		t.Error("short private key parsed")
	}
}
