package aptrepo

import (
	"bytes"
	"crypto"
	_ "crypto/sha512" // the signatures' hash
	"errors"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// KeyUID is the user id of the keys GenerateKey makes.
const KeyUID = "webui apt repository"

// pgpConfig: Ed25519 (the v4 EdDSA every gpgv and sqv apt uses reads),
// SHA-512 signatures.
func pgpConfig(now time.Time) *packet.Config {
	return &packet.Config{
		Algorithm:   packet.PubKeyAlgoEdDSA,
		Curve:       packet.Curve25519,
		DefaultHash: crypto.SHA512,
		Time:        func() time.Time { return now },
	}
}

// Key is a repository signing key.
type Key struct {
	e *openpgp.Entity
}

// GenerateKey makes a signing key: Ed25519, no expiry, sign and certify
// only (apt needs no encryption subkey).
func GenerateKey(name, email string, now time.Time) (*Key, error) {
	e, err := openpgp.NewEntity(name, "", email, pgpConfig(now))
	if err != nil {
		return nil, err
	}
	e.Subkeys = nil
	return &Key{e: e}, nil
}

// Fingerprint is the key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string { return fmt.Sprintf("%X", k.e.PrimaryKey.Fingerprint) }

// ArmoredPrivate is the secret key, ASCII-armored.
func (k *Key) ArmoredPrivate() ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := k.e.SerializePrivateWithoutSigning(w, nil); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// PublicKeyring is the public key as a binary OpenPGP keyring: what apt's
// signed-by= takes (a .gpg file).
func (k *Key) PublicKeyring() ([]byte, error) {
	var b bytes.Buffer
	if err := k.e.Serialize(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadKey reads an armored secret key (apt.key).
func ReadKey(armored []byte) (*Key, error) {
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("not an armored OpenPGP key: %w", err)
	}
	if len(el) != 1 {
		return nil, fmt.Errorf("%d keys in the file, want one", len(el))
	}
	e := el[0]
	if e.PrivateKey == nil {
		return nil, errors.New("a public key: signing needs the secret key (apt.key, not apt.pub.gpg)")
	}
	if e.PrivateKey.Encrypted {
		return nil, errors.New("the secret key is passphrase-protected; export it without a passphrase for signing")
	}
	if !e.PrivateKey.CanSign() {
		return nil, errors.New("the key cannot sign")
	}
	return &Key{e: e}, nil
}

// ClearSign is data as an InRelease file: clearsigned.
func (k *Key) ClearSign(data []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, k.e.PrivateKey, pgpConfig(now))
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// DetachSign is an armored detached signature of data: Release.gpg.
func (k *Key) DetachSign(data []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.e, bytes.NewReader(data), pgpConfig(now)); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}
