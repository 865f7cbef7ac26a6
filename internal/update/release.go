package update

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/debfile"
)

// BuildManifest describes the release artifacts in a dist dir (what
// cmd/mkdeb writes): binaries named webui-<target>, and .debs under their
// Debian names, webui_<version>_<arch>.deb, whose Debian arch tells the
// target (aarch64, arm, x86_64, i686: Termux; amd64, arm64: Linux). .debs
// of another version are skipped and reported. Artifact urls are the file
// names, relative to the manifest, which is uploaded beside them.
func BuildManifest(dist, version, channel, notes string, published time.Time) (*Manifest, []string, error) {
	if !validVersion(version) {
		return nil, nil, fmt.Errorf("--version %q is not a version such as 1.2.3", version)
	}
	if channel == "" {
		channel = "stable"
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		return nil, nil, err
	}
	m := &Manifest{Schema: Schema, Channel: channel, Version: version, Published: published.UTC().Format(time.RFC3339), Notes: notes}
	var skipped []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		var target, kind string
		switch {
		case strings.HasPrefix(name, "webui-") && knownTarget(strings.TrimPrefix(name, "webui-")):
			target, kind = strings.TrimPrefix(name, "webui-"), KindBinary
		case strings.HasPrefix(name, "webui-repo_"):
			continue // the apt repository's package: apt installs it, not self-update
		case strings.HasSuffix(name, ".deb"):
			ver, arch, ok := splitDebName(name)
			if !ok {
				skipped = append(skipped, name+": not a webui_<version>_<arch>.deb")
				continue
			}
			if ver != version {
				skipped = append(skipped, fmt.Sprintf("%s: version %s, not %s", name, ver, version))
				continue
			}
			t, ok := DebArchTarget[arch]
			if !ok {
				skipped = append(skipped, fmt.Sprintf("%s: no target has the Debian arch %q", name, arch))
				continue
			}
			target, kind = t, KindDeb
		default:
			continue // manifest.json, signatures, checksums, ...
		}
		size, sum, err := debfile.Hash(filepath.Join(dist, name))
		if err != nil {
			return nil, nil, err
		}
		if size > MaxArtifactSize {
			return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d an update downloads", name, size, MaxArtifactSize)
		}
		m.Artifacts = append(m.Artifacts, Artifact{Target: target, Kind: kind, URL: name, Size: size, SHA256: sum})
	}
	if len(m.Artifacts) == 0 {
		return nil, skipped, fmt.Errorf("no release artifacts in %s (want webui-<target> binaries and webui_%s_<arch>.deb packages; `make deb` writes them)", dist, version)
	}
	order := map[string]int{}
	for i, t := range Targets {
		order[t] = i
	}
	sort.Slice(m.Artifacts, func(i, j int) bool {
		a, b := m.Artifacts[i], m.Artifacts[j]
		if a.Target != b.Target {
			return order[a.Target] < order[b.Target]
		}
		return a.Kind < b.Kind
	})
	return m, skipped, m.Validate()
}

// MarshalManifest is the manifest as published: indented JSON and a
// newline. The signature covers these exact bytes.
func MarshalManifest(m *Manifest) ([]byte, error) {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // notes are markdown: keep <, > and & readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return []byte(buf.String()), nil
}

// splitDebName reads webui_<version>_<arch>.deb. Versions have no "_";
// arch names may (x86_64), so the version ends at the first "_".
func splitDebName(name string) (version, arch string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSuffix(name, ".deb"), "webui_")
	if !found {
		return "", "", false
	}
	version, arch, ok = strings.Cut(rest, "_")
	return version, arch, ok && version != "" && arch != ""
}
