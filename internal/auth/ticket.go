package auth

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

// A ticket is a sign-in link's short-lived stand-in for the token, for
// links that pass through another program's command line (`webui url
// --open`), where other processes can read them: it expires within
// minutes and the server takes each one once. "wut_t" + expiry (10
// digits, unix seconds) + nonce (22) + MAC (43) over both, under the
// session key.
const ticketPrefix = TokenPrefix + "t"

// TicketLifetime is how long a ticket link stays valid.
const TicketLifetime = 2 * time.Minute

// SignTicket makes a ticket valid until exp.
func SignTicket(key []byte, exp time.Time) string {
	body := fmt.Sprintf("%s%010d%s", ticketPrefix, exp.Unix(), base64.RawURLEncoding.EncodeToString(randomBytes(16)))
	return body + base64.RawURLEncoding.EncodeToString(mac(key, body))
}

// VerifyTicket checks a ticket and returns its nonce (for single use) and
// expiry.
func VerifyTicket(key []byte, v string, now time.Time) (nonce string, exp time.Time, ok bool) {
	const n = len(ticketPrefix)
	if len(v) != n+10+22+43 || v[:n] != ticketPrefix || len(key) == 0 {
		return "", time.Time{}, false
	}
	body := v[:n+32]
	if !hmac.Equal([]byte(v[n+32:]), []byte(base64.RawURLEncoding.EncodeToString(mac(key, body)))) {
		return "", time.Time{}, false
	}
	secs, err := strconv.ParseInt(v[n:n+10], 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	exp = time.Unix(secs, 0)
	if !exp.After(now) || exp.Sub(now) > TicketLifetime {
		return "", time.Time{}, false
	}
	return v[n+10 : n+32], exp, true
}

// NewTicket makes a ticket with the current session key of dir's store.
func (s *Store) NewTicket(now time.Time) (string, error) {
	key, err := s.Key()
	if err != nil {
		return "", err
	}
	return SignTicket(key, now.Add(TicketLifetime)), nil
}
