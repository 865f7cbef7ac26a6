package main

import (
	"fmt"
	"strings"
)

// Family is a group of packages that share paths and maintainer scripts. It
// names the entry of nfpm.yaml's overrides, and the contents tagged with
// `packager: <family>`, that apply.
type Family string

// The package families.
const (
	Termux Family = "termux" // $PREFIX=/data/data/com.termux/files/usr, Termux's dpkg
	Linux  Family = "linux"  // FHS paths, systemd, Debian and Ubuntu
)

// TermuxPrefix is where Termux installs packages on every device.
const TermuxPrefix = "/data/data/com.termux/files/usr"

// Target is one binary and the package that ships it. Its name is the
// target name of the release manifest (termux-aarch64, linux-amd64, ...).
type Target struct {
	Name    string
	Family  Family
	GOOS    string
	GOARCH  string
	GOARM   string // for GOARCH=arm
	DebArch string // the Architecture: field, written verbatim
}

// targets is every package mkdeb makes. Only GOOS=android GOARCH=arm64 links
// without cgo, so the other Termux builds are static GOOS=linux binaries,
// which Android kernels run.
var targets = []Target{
	{Name: "termux-aarch64", Family: Termux, GOOS: "android", GOARCH: "arm64", DebArch: "aarch64"},
	{Name: "termux-arm", Family: Termux, GOOS: "linux", GOARCH: "arm", GOARM: "7", DebArch: "arm"},
	{Name: "termux-x86_64", Family: Termux, GOOS: "linux", GOARCH: "amd64", DebArch: "x86_64"},
	{Name: "termux-i686", Family: Termux, GOOS: "linux", GOARCH: "386", DebArch: "i686"},
	{Name: "linux-amd64", Family: Linux, GOOS: "linux", GOARCH: "amd64", DebArch: "amd64"},
	{Name: "linux-arm64", Family: Linux, GOOS: "linux", GOARCH: "arm64", DebArch: "arm64"},
}

func targetNames() []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return names
}

// selectTargets resolves --only: a comma separated list of target names, or
// empty (or "all") for every target. The result keeps the table's order.
func selectTargets(only string) ([]Target, error) {
	only = strings.TrimSpace(only)
	if only == "" || only == "all" {
		return targets, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, t := range targets {
			found = found || t.Name == name
		}
		if !found {
			return nil, fmt.Errorf("--only: unknown target %q (known: %s)", name, strings.Join(targetNames(), ", "))
		}
		want[name] = true
	}
	var out []Target
	for _, t := range targets {
		if want[t.Name] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--only: no targets in %q", only)
	}
	return out, nil
}

// layout is where a family installs things, and the defaults webui uses
// there (they are written into the shipped webui.conf comments).
type layout struct {
	Prefix     string
	SysConfDir string
	ConfigFile string
	StateDir   string
	LogDir     string
	RunDir     string
}

func (f Family) layout() layout {
	if f == Termux {
		return layout{
			Prefix:     TermuxPrefix,
			SysConfDir: TermuxPrefix + "/etc",
			ConfigFile: TermuxPrefix + "/etc/webui/webui.conf",
			StateDir:   TermuxPrefix + "/var/lib/webui",
			LogDir:     TermuxPrefix + "/var/log/webui",
			RunDir:     TermuxPrefix + "/var/run",
		}
	}
	return layout{
		Prefix:     "/usr",
		SysConfDir: "/etc",
		ConfigFile: "/etc/webui/webui.conf",
		StateDir:   "/var/lib/webui",
		LogDir:     "/var/log/webui",
		RunDir:     "/run/webui",
	}
}
