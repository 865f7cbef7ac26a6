package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
)

// apply checks v and sets it. No value may hold a control character, from
// any source: a line break in a value would become a line of its own
// when the config file is written.
func (s setting) apply(c *Config, v string) error {
	if controlAt(v) >= 0 || !utf8.ValidString(v) {
		return errBad
	}
	return s.set(c, v)
}

// controlAt is the byte index of the first control character in v, or -1.
func controlAt(v string) int {
	for i, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return i
		}
	}
	return -1
}

func validPortText(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535 && strconv.Itoa(n) == p
}

// updateKeys checks every key now: a key that is not base64 of a 32-byte
// ed25519 public key stops startup, rather than every update later.
var updateKeys = field{
	set: func(c *Config, v string) error {
		list := listSetting(func(c *Config) *[]string { return &c.UpdateKeys })
		if err := list.set(c, v); err != nil {
			return err
		}
		for _, k := range c.UpdateKeys {
			if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != ed25519.PublicKeySize {
				return errBad
			}
		}
		return nil
	},
	get: func(c *Config) string { return strings.Join(c.UpdateKeys, ",") },
}

// setPublicURL takes the origin of a TLS proxy's address.
func setPublicURL(c *Config, v string) error {
	if v == "" {
		c.PublicURL = ""
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !health.ValidHost(u.Hostname()) || u.Hostname() == "" ||
		(u.Port() != "" && !validPortText(u.Port())) || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errBad
	}
	c.PublicURL = u.Scheme + "://" + u.Host
	return nil
}

// loadPasswordFile takes the password hash from the state dir, where
// `webui passwd` keeps it (0600), over one in the config file. A file
// this process may not read counts as absent.
func (c *Config) loadPasswordFile() {
	b, err := os.ReadFile(paths.State(c.StateDir).Password())
	if err != nil {
		return
	}
	if h := strings.TrimSpace(string(b)); h != "" && controlAt(h) < 0 {
		c.PasswordHash = h
		c.Source["password_hash"] = "state"
	}
}

// MoveExposedSecret deals with a password_hash in a config file that others
// may read (older versions of `webui passwd` wrote it there, keeping the
// file's 0644): store puts the hash in the state dir, then the line leaves
// the config file. Nothing to do returns nil; a failure leaves Check to
// refuse the start with the way out.
func (c *Config) MoveExposedSecret(store func(hash string) error) (moved string, err error) {
	if c.exposedSecret == "" || c.Source["password_hash"] == "state" || c.Source["password_hash"] == "env" {
		return "", nil
	}
	// The line can only leave the file if its directory takes the
	// replacement; otherwise keep the hash where it is and let Check say
	// who must run `webui passwd`.
	target, err := writeTarget(c.ConfigFile)
	if err != nil {
		return "", err
	}
	if err := syscall.Access(filepath.Dir(target), 2 /* W_OK */); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Dir(target), err)
	}
	if err := store(c.PasswordHash); err != nil {
		return "", err
	}
	if err := RemoveKey(c.ConfigFile, "password_hash"); err != nil {
		return "", err
	}
	moved = c.exposedSecret
	c.exposedSecret = ""
	c.Source["password_hash"] = "state"
	return moved, nil
}
