package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// SessionPrefix starts every session cookie value: "wus1.ID.EXPIRY.MAC".
// ID is 128 random bits, EXPIRY unix seconds, MAC the HMAC-SHA256 of
// "wus1.ID.EXPIRY" under the session key. The cookie carries its own
// expiry, so sessions need no server-side table and live across restarts;
// rotating the key ends them all.
const SessionPrefix = "wus1"

// NewSessionID returns a fresh random session id.
func NewSessionID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(16)) }

// SignSession makes the cookie value of session id, valid until exp.
func SignSession(key []byte, id string, exp time.Time) string {
	body := SessionPrefix + "." + id + "." + strconv.FormatInt(exp.Unix(), 10)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(key, body))
}

// VerifySession checks a cookie value: the MAC under key, and the expiry
// against now. It returns the session id and its expiry.
func VerifySession(key []byte, v string, now time.Time) (id string, exp time.Time, ok bool) {
	if len(v) > 256 || len(key) == 0 {
		return "", time.Time{}, false
	}
	parts := strings.Split(v, ".")
	if len(parts) != 4 || parts[0] != SessionPrefix || parts[1] == "" {
		return "", time.Time{}, false
	}
	// Compare the text, not decoded bytes: the decoder skips line breaks,
	// which would let one session have many cookie values.
	want := base64.RawURLEncoding.EncodeToString(mac(key, strings.Join(parts[:3], ".")))
	if !hmac.Equal([]byte(parts[3]), []byte(want)) {
		return "", time.Time{}, false
	}
	secs, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || secs <= 0 {
		return "", time.Time{}, false
	}
	exp = time.Unix(secs, 0)
	if !exp.After(now) {
		return "", time.Time{}, false
	}
	return parts[1], exp, true
}

func mac(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
