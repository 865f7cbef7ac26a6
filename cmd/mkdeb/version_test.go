package main

import (
	"errors"
	"strings"
	"testing"
)

func TestDescribeToDebian(t *testing.T) {
	tests := []struct {
		desc, sha, want string
	}{
		{"v1.2.3", "abc1234", "1.2.3"},
		{"1.2.3", "abc1234", "1.2.3"},
		{"v1.2.3-dirty", "abc1234", "1.2.3+dirty"},
		{"v1.2.3-4-gabc1234", "abc1234", "1.2.3+4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "abc1234", "1.2.3+4.gabc1234.dirty"},
		{"v1.3.0-rc1", "abc1234", "1.3.0~rc1"},
		{"v1.3.0-rc.1-2-gabc1234", "abc1234", "1.3.0~rc.1+2.gabc1234"},
		{"abc1234", "abc1234", "0.0.0~dev+abc1234"},
		{"abc1234-dirty", "abc1234", "0.0.0~dev+abc1234.dirty"},
		{"abc1234", "", "0.0.0~dev+abc1234"},
	}
	for _, tt := range tests {
		got, err := describeToDebian(tt.desc, tt.sha)
		if err != nil || got != tt.want {
			t.Errorf("describeToDebian(%q, %q) = %q, %v; want %q", tt.desc, tt.sha, got, err, tt.want)
		}
		if err == nil && !debVersionRE.MatchString(got) {
			t.Errorf("%q is not a Debian version", got)
		}
	}
	for _, bad := range []string{"release-one", "vfoo", "v1.2_3"} {
		if got, err := describeToDebian(bad, "abc1234"); err == nil {
			t.Errorf("describeToDebian(%q) = %q, want an error", bad, got)
		}
	}
}

// fakeGit answers git commands from a table; a missing entry fails.
func fakeGit(answers map[string]string) gitFunc {
	return func(args ...string) (string, error) {
		if out, ok := answers[strings.Join(args, " ")]; ok {
			return out, nil
		}
		return "", errors.New("fatal: not a git repository")
	}
}

func TestResolveVersion(t *testing.T) {
	git := fakeGit(map[string]string{
		"describe --tags --always --dirty": "v2.0.0-3-gdeadbee",
		"rev-parse --short HEAD":           "deadbee",
	})
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		git     gitFunc
		want    string
		wantErr bool
	}{
		{name: "flag wins", flag: "v1.0.0", env: map[string]string{"VERSION": "9.9.9"}, git: git, want: "1.0.0"},
		{name: "env next", env: map[string]string{"VERSION": "1.4.0~rc2"}, git: git, want: "1.4.0~rc2"},
		{name: "debian revision allowed", flag: "1.0.0-2", git: git, want: "1.0.0-2"},
		{name: "git", git: git, want: "2.0.0+3.gdeadbee"},
		{name: "no git", git: fakeGit(nil), want: "0.0.0~dev"},
		{name: "bad flag", flag: "latest", git: git, wantErr: true},
		{name: "space", flag: "1.0 beta", git: git, wantErr: true},
		{name: "epoch not allowed", flag: "1:1.0", git: git, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveVersion(tt.flag, env(tt.env), tt.git)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("resolveVersion = %q, %v; want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSourceDateEpoch(t *testing.T) {
	git := fakeGit(map[string]string{"log -1 --format=%ct": "1700000000"})
	none := func(string) string { return "" }

	if n, _, err := sourceDateEpoch(func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1234567890"
		}
		return ""
	}, git); err != nil || n != 1234567890 {
		t.Errorf("from env: %d, %v", n, err)
	}
	if n, src, err := sourceDateEpoch(none, git); err != nil || n != 1700000000 || src != "commit time" {
		t.Errorf("from git: %d, %q, %v", n, src, err)
	}
	if n, src, err := sourceDateEpoch(none, fakeGit(nil)); err != nil || n <= 1700000000 || !strings.Contains(src, "not reproducible") {
		t.Errorf("without git: %d, %q, %v", n, src, err)
	}
	if _, _, err := sourceDateEpoch(func(string) string { return "yesterday" }, git); err == nil {
		t.Error("a bad SOURCE_DATE_EPOCH was accepted")
	}
}

func TestSelectTargets(t *testing.T) {
	all, err := selectTargets("")
	if err != nil || len(all) != 6 {
		t.Fatalf("all targets: %d, %v", len(all), err)
	}
	got, err := selectTargets("linux-amd64, termux-aarch64")
	if err != nil || len(got) != 2 || got[0].Name != "termux-aarch64" || got[1].Name != "linux-amd64" {
		t.Fatalf("subset: %+v, %v", got, err)
	}
	if _, err := selectTargets("termux-arm64"); err == nil || !strings.Contains(err.Error(), "termux-aarch64") {
		t.Fatalf("unknown target: %v", err)
	}
	if _, err := selectTargets(","); err == nil {
		t.Fatal("empty list accepted")
	}
}

func TestTargetTable(t *testing.T) {
	termuxArch := map[string]bool{"aarch64": true, "arm": true, "x86_64": true, "i686": true}
	seen := map[string]bool{}
	for _, tg := range targets {
		if seen[tg.DebArch] {
			t.Errorf("%s: Architecture %s used twice: the .deb names would collide", tg.Name, tg.DebArch)
		}
		seen[tg.DebArch] = true
		if tg.Family == Termux && !termuxArch[tg.DebArch] {
			t.Errorf("%s: Termux's dpkg does not accept Architecture %q", tg.Name, tg.DebArch)
		}
		if tg.Family == Termux && tg.GOOS == "android" && tg.GOARCH != "arm64" {
			t.Errorf("%s: only android/arm64 links without cgo", tg.Name)
		}
		if !strings.HasPrefix(tg.Name, string(tg.Family)+"-") {
			t.Errorf("%s: name does not start with its family %s", tg.Name, tg.Family)
		}
	}
}

func TestBuildArgs(t *testing.T) {
	args := strings.Join(buildArgs("out", "1.2.3"), " ")
	for _, want := range []string{"-trimpath", "-s -w", "-X " + versionVar + "=1.2.3", "./cmd/webui"} {
		if !strings.Contains(args, want) {
			t.Errorf("go %s: missing %q", args, want)
		}
	}
	env := strings.Join(buildEnv(Target{GOOS: "linux", GOARCH: "arm", GOARM: "7"}), " ")
	if !strings.Contains(env, "CGO_ENABLED=0") || !strings.Contains(env, "GOARM=7") {
		t.Errorf("arm build env: %s", env)
	}
}
