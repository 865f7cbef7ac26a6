package update

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Schema is the manifest schema this webui reads.
const Schema = 1

// MaxArtifactSize is the hard cap on a download, whatever a manifest says.
const MaxArtifactSize = 200 << 20

// maxManifestSize caps manifest.json and its signature.
const maxManifestSize = 1 << 20

// Targets are the release targets: which binary or package runs where.
var Targets = []string{"termux-aarch64", "termux-arm", "termux-x86_64", "termux-i686", "linux-amd64", "linux-arm64"}

// Artifact kinds.
const (
	KindDeb    = "deb"
	KindBinary = "binary"
)

// Manifest is a release feed's manifest.json.
type Manifest struct {
	Schema    int        `json:"schema"`
	Channel   string     `json:"channel"`
	Version   string     `json:"version"`
	Published string     `json:"published"`
	Notes     string     `json:"notes"`
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is one downloadable file of a release.
type Artifact struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// URL may be relative: it is resolved against the manifest's URL.
	URL    string `json:"url"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ParseManifest decodes and validates manifest bytes. It does not check
// the signature: callers verify the exact bytes first.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks every field a manifest must have.
func (m *Manifest) Validate() error {
	if m.Schema != Schema {
		return fmt.Errorf("manifest: schema %d, this webui reads schema %d (a newer webui may be needed: install it by hand)", m.Schema, Schema)
	}
	if m.Channel == "" {
		return errors.New("manifest: no channel")
	}
	if !validVersion(m.Version) {
		return fmt.Errorf("manifest: bad version %q", m.Version)
	}
	if m.Published != "" {
		if _, err := time.Parse(time.RFC3339, m.Published); err != nil {
			return fmt.Errorf("manifest: published %q is not an RFC 3339 time", m.Published)
		}
	}
	if len(m.Artifacts) == 0 {
		return errors.New("manifest: no artifacts")
	}
	seen := map[string]bool{}
	for i, a := range m.Artifacts {
		where := fmt.Sprintf("manifest: artifact %d (%s %s)", i, a.Target, a.Kind)
		if !knownTarget(a.Target) {
			return fmt.Errorf("%s: unknown target %q (known: %s)", where, a.Target, strings.Join(Targets, ", "))
		}
		if a.Kind != KindDeb && a.Kind != KindBinary {
			return fmt.Errorf("%s: unknown kind %q (known: deb, binary)", where, a.Kind)
		}
		if a.URL == "" {
			return fmt.Errorf("%s: no url", where)
		}
		if _, err := url.Parse(a.URL); err != nil {
			return fmt.Errorf("%s: bad url: %v", where, err)
		}
		if a.Size <= 0 || a.Size > MaxArtifactSize {
			return fmt.Errorf("%s: size %d is not between 1 and %d bytes", where, a.Size, MaxArtifactSize)
		}
		if h, err := hex.DecodeString(a.SHA256); err != nil || len(h) != 32 {
			return fmt.Errorf("%s: sha256 %q is not 64 hex digits", where, a.SHA256)
		}
		key := a.Target + "/" + a.Kind
		if seen[key] {
			return fmt.Errorf("%s: listed twice", where)
		}
		seen[key] = true
	}
	return nil
}

// CheckChannel refuses a manifest of another channel than the one asked for:
// a beta feed must not be served to a stable user by a misconfigured URL.
func (m *Manifest) CheckChannel(want string) error {
	if want != "" && m.Channel != want {
		return fmt.Errorf("manifest is for channel %q, but update_channel is %q (point update_url at the %s feed, or set update_channel)", m.Channel, want, want)
	}
	return nil
}

// Find returns the artifact for target of kind.
func (m *Manifest) Find(target, kind string) (Artifact, bool) {
	for _, a := range m.Artifacts {
		if a.Target == target && a.Kind == kind {
			return a, true
		}
	}
	return Artifact{}, false
}

func knownTarget(t string) bool {
	for _, k := range Targets {
		if k == t {
			return true
		}
	}
	return false
}

// validVersion: a Debian-ish version, as cmd/mkdeb makes them.
func validVersion(v string) bool {
	if v == "" || len(v) > 128 || v[0] < '0' || v[0] > '9' {
		return false
	}
	return strings.Trim(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-:") == ""
}

// ResolveURL resolves an artifact's url against the manifest's URL. The
// base may be an http(s) or file URL, or a local path (an offline
// manifest); a relative reference then names a file beside it.
func ResolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("artifact url %q: %w", ref, err)
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("manifest url %q: %w", base, err)
	}
	if !b.IsAbs() {
		// A local path.
		abs, err := filepath.Abs(base)
		if err != nil {
			return "", err
		}
		b = &url.URL{Scheme: "file", Path: abs}
	}
	return b.ResolveReference(r).String(), nil
}
