package aptrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/termux-webui/webui/internal/debfile"
	"github.com/termux-webui/webui/internal/update"
)

// Families and their architectures. Termux's dpkg names its arches
// aarch64, arm, i686 and x86_64; Debian's are amd64 and arm64. An
// Architecture: all package belongs to the family its files say.
const (
	Termux = "termux"
	Debian = "debian"
)

// TermuxArches and DebianArches are the binary-ARCH indexes written.
var (
	TermuxArches = []string{"aarch64", "arm", "i686", "x86_64"}
	DebianArches = []string{"amd64", "arm64"}
)

// termuxPrefix is where every Termux package installs.
const termuxPrefix = "./data/data/com.termux/files/"

func archFamily(arch string) string {
	for _, a := range TermuxArches {
		if a == arch {
			return Termux
		}
	}
	for _, a := range DebianArches {
		if a == arch {
			return Debian
		}
	}
	return ""
}

// Package is one .deb: its control paragraph and where it is.
type Package struct {
	Control debfile.Paragraph
	Name    string // Package
	Version string
	Arch    string // Architecture
	Family  string // Termux or Debian
	Path    string // on disk
	Size    int64
	SHA256  string
}

// slot is what versions compete in: one package name, one architecture
// ("all" counts once per family).
func (p *Package) slot() string { return p.Name + " " + p.Arch + " " + p.Family }

// poolPath is the package's place under the repository root:
// pool/COMPONENT/<initial>/<name>/<name>_<version>_<arch>.deb, with the
// family as one more directory for "all" packages, whose Termux and Debian
// builds share name, version and arch.
func (p *Package) poolPath(component string) string {
	ver := p.Version
	if _, rest, ok := strings.Cut(ver, ":"); ok {
		ver = rest // the epoch is not part of file names
	}
	dir := filepath.Join("pool", component, p.Name[:1], p.Name)
	if p.Arch == "all" {
		dir = filepath.Join(dir, p.Family)
	}
	return filepath.Join(dir, fmt.Sprintf("%s_%s_%s.deb", p.Name, ver, p.Arch))
}

// Compiled on first use, as namePart: init is on every start's path.
var (
	namePattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`) })
	versionPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$`) })
)

// ReadPackage reads the control data of the .deb at path and hashes it.
func ReadPackage(path string) (*Package, error) {
	raw, err := debfile.Control(path)
	if err != nil {
		return nil, err
	}
	c, err := debfile.ParseOne(raw)
	if err != nil {
		return nil, fmt.Errorf("control file: %w", err)
	}
	p := &Package{Control: c, Name: c.Get("Package"), Version: c.Get("Version"), Arch: c.Get("Architecture"), Path: path}
	switch {
	case !namePattern().MatchString(p.Name):
		return nil, fmt.Errorf("control file: Package %q is not a Debian package name", p.Name)
	case !versionPattern().MatchString(p.Version):
		return nil, fmt.Errorf("control file: Version %q is not a Debian version", p.Version)
	case p.Arch == "all":
		paths, err := debfile.DataPaths(path, 64)
		if err != nil {
			return nil, err
		}
		p.Family = Debian
		for _, f := range paths {
			if strings.HasPrefix(f, termuxPrefix) {
				p.Family = Termux
				break
			}
		}
	default:
		if p.Family = archFamily(p.Arch); p.Family == "" {
			return nil, fmt.Errorf("control file: Architecture %q is none of %s, %s or all", p.Arch, strings.Join(TermuxArches, " "), strings.Join(DebianArches, " "))
		}
	}
	if p.Size, p.SHA256, err = debfile.Hash(path); err != nil {
		return nil, err
	}
	return p, nil
}

// scanDebs reads every .deb under dir (recursively when deep), sorted by
// path. Hidden files (a copy in progress) are left out.
func scanDebs(dir string, deep bool) ([]*Package, error) {
	var out []*Package
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			if path != dir && !deep {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".deb") || !d.Type().IsRegular() {
			return nil
		}
		p, err := ReadPackage(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// compareVersions is dpkg's version order.
func compareVersions(a, b string) int { return update.CompareVersions(a, b) }

// prune keeps the keep newest versions of each slot (keep <= 0: all) and
// returns the kept packages, sorted by name, arch, family and version, and
// the dropped ones. Two different files of one version in a slot is an
// error: apt would see one version with two contents.
func prune(pkgs []*Package, keep int) (kept, dropped []*Package, err error) {
	slots := map[string][]*Package{}
	for _, p := range pkgs {
		slots[p.slot()] = append(slots[p.slot()], p)
	}
	for _, ps := range slots {
		sort.SliceStable(ps, func(i, j int) bool { return compareVersions(ps[i].Version, ps[j].Version) > 0 })
		for i := 1; i < len(ps); i++ {
			if compareVersions(ps[i].Version, ps[i-1].Version) == 0 && ps[i].SHA256 != ps[i-1].SHA256 {
				return nil, nil, fmt.Errorf("%s and %s are both %s %s (%s) with different contents", ps[i-1].Path, ps[i].Path, ps[i].Name, ps[i].Version, ps[i].Arch)
			}
		}
		for i, p := range ps {
			if keep > 0 && i >= keep {
				dropped = append(dropped, p)
			} else {
				kept = append(kept, p)
			}
		}
	}
	order := func(s []*Package) {
		sort.Slice(s, func(i, j int) bool {
			a, b := s[i], s[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			if a.Arch != b.Arch {
				return a.Arch < b.Arch
			}
			if a.Family != b.Family {
				return a.Family < b.Family
			}
			if c := compareVersions(a.Version, b.Version); c != 0 {
				return c < 0
			}
			return a.Path < b.Path
		})
	}
	order(kept)
	order(dropped)
	return kept, dropped, nil
}
