package update

import (
	"encoding/json"
	"strings"
	"testing"
)

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func validManifest() Manifest {
	return Manifest{Schema: 1, Channel: "stable", Version: "1.2.0", Published: "2026-01-02T03:04:05Z", Notes: "fixes",
		Artifacts: []Artifact{
			{Target: "termux-aarch64", Kind: "deb", URL: "webui_1.2.0_aarch64.deb", Size: 10, SHA256: sha},
			{Target: "linux-amd64", Kind: "binary", URL: "webui-linux-amd64", Size: 20, SHA256: strings.ToUpper(sha)},
		}}
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Manifest)
		want   string // "" = valid; else a substring of the error
	}{
		{"valid", func(*Manifest) {}, ""},
		{"schema 2", func(m *Manifest) { m.Schema = 2 }, "schema 2"},
		{"schema missing", func(m *Manifest) { m.Schema = 0 }, "schema 0"},
		{"no channel", func(m *Manifest) { m.Channel = "" }, "no channel"},
		{"bad version", func(m *Manifest) { m.Version = "latest" }, "bad version"},
		{"bad published", func(m *Manifest) { m.Published = "yesterday" }, "RFC 3339"},
		{"no artifacts", func(m *Manifest) { m.Artifacts = nil }, "no artifacts"},
		{"unknown target", func(m *Manifest) { m.Artifacts[0].Target = "windows-amd64" }, `unknown target "windows-amd64"`},
		{"unknown kind", func(m *Manifest) { m.Artifacts[0].Kind = "rpm" }, `unknown kind "rpm"`},
		{"no url", func(m *Manifest) { m.Artifacts[0].URL = "" }, "no url"},
		{"zero size", func(m *Manifest) { m.Artifacts[0].Size = 0 }, "size 0"},
		{"huge size", func(m *Manifest) { m.Artifacts[0].Size = MaxArtifactSize + 1 }, "is not between"},
		{"bad sha", func(m *Manifest) { m.Artifacts[0].SHA256 = "abc" }, "64 hex digits"},
		{"duplicate", func(m *Manifest) { m.Artifacts[1] = m.Artifacts[0] }, "listed twice"},
	}
	for _, tt := range tests {
		m := validManifest()
		tt.mutate(&m)
		b, _ := json.Marshal(m)
		got, err := ParseManifest(b)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && got.Version != "1.2.0":
			t.Errorf("%s: parsed %+v", tt.name, got)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want it to say %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParseManifest([]byte("{not json")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestManifestChannelAndFind(t *testing.T) {
	t.Parallel()
	m := validManifest()
	if err := m.CheckChannel("stable"); err != nil {
		t.Error(err)
	}
	err := m.CheckChannel("beta")
	if err == nil || !strings.Contains(err.Error(), `channel "stable"`) || !strings.Contains(err.Error(), `update_channel is "beta"`) {
		t.Errorf("channel mismatch: %v", err)
	}
	if a, ok := m.Find("linux-amd64", KindBinary); !ok || a.URL != "webui-linux-amd64" {
		t.Errorf("Find binary: %+v %v", a, ok)
	}
	if _, ok := m.Find("linux-amd64", KindDeb); ok {
		t.Error("found a deb that is not listed")
	}
}

func TestResolveURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, ref, want string }{
		{"https://example.org/releases/latest/manifest.json", "webui-linux-amd64", "https://example.org/releases/latest/webui-linux-amd64"},
		{"https://example.org/releases/latest/manifest.json?x=1", "sub/a.deb", "https://example.org/releases/latest/sub/a.deb"},
		{"https://example.org/releases/latest/manifest.json", "../v1/a.deb", "https://example.org/releases/v1/a.deb"},
		{"https://example.org/releases/latest/manifest.json", "/abs/a.deb", "https://example.org/abs/a.deb"},
		{"https://example.org/m.json", "https://cdn.example.net/a.deb", "https://cdn.example.net/a.deb"},
		{"file:///srv/dist/manifest.json", "webui-linux-amd64", "file:///srv/dist/webui-linux-amd64"},
		{"/srv/dist/manifest.json", "webui_1.2.0_amd64.deb", "file:///srv/dist/webui_1.2.0_amd64.deb"},
	}
	for _, tt := range tests {
		got, err := ResolveURL(tt.base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
}
