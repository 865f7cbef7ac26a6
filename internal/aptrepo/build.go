// Package aptrepo builds a signed apt repository from webui's .debs: the
// standard layout (pool/, dists/SUITE/COMPONENT/binary-ARCH/Packages{,.gz},
// Release, InRelease, Release.gpg) that apt on Debian and Termux reads, for
// Termux's arches and Debian's.
//
// The pool is the truth: every build indexes every .deb under pool/, so an
// existing repository gains the new version and keeps the old ones (down
// to a count). The indexes are written to a new directory that replaces
// dists/SUITE in one rename: apt never sees a half-written suite. The
// output is reproducible: the same pool and date give the same bytes,
// signatures aside.
package aptrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/termux-webui/webui/internal/debfile"
	"golang.org/x/sys/unix"
)

// Options say what to build.
type Options struct {
	Dist      string // the new .debs (not recursive)
	Out       string // the repository root
	Suite     string // default "stable"
	Component string // where new .debs go; default "main"
	Keep      int    // versions kept per package and arch; <= 0 keeps all
	Key       *Key
	Date      time.Time     // the Release Date (SOURCE_DATE_EPOCH)
	ValidFor  time.Duration // Valid-Until = Date + ValidFor; 0: no Valid-Until
	Now       time.Time     // the signatures' time; zero: time.Now()
}

// Result is what a build did, repository-relative paths.
type Result struct {
	Added   []string // copied into the pool
	Present []string // already in the pool, identical
	Pruned  []string // removed: older than the Keep newest
	Indexed int      // packages in the indexes
	Suite   string   // dists/SUITE
}

// namePart compiles on first use: init is on every start's path.
var namePart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`) })

// Build adds the .debs of o.Dist to the repository at o.Out and rewrites
// its indexes and signatures.
func Build(o Options) (*Result, error) {
	if o.Suite == "" {
		o.Suite = "stable"
	}
	if o.Component == "" {
		o.Component = "main"
	}
	if !namePart().MatchString(o.Suite) || !namePart().MatchString(o.Component) {
		return nil, fmt.Errorf("suite %q and component %q must be lower-case names ([a-z0-9.-])", o.Suite, o.Component)
	}
	if o.Key == nil {
		return nil, errors.New("no signing key")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	var err error
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return nil, err
	}
	newPkgs, err := scanDebs(o.Dist, false)
	if err != nil {
		return nil, err
	}
	if len(newPkgs) == 0 {
		return nil, fmt.Errorf("no .deb packages in %s (`make deb` writes them to dist/)", o.Dist)
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "pool"), 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockDir(o.Out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// A build killed midway leaves its hidden suite directory behind.
	if old, _ := filepath.Glob(filepath.Join(o.Out, "dists", "."+o.Suite+".new-*")); len(old) > 0 {
		for _, d := range old {
			_ = os.RemoveAll(d)
		}
	}

	res := &Result{Suite: filepath.Join("dists", o.Suite)}
	if err := addToPool(o, newPkgs, res); err != nil {
		return nil, err
	}
	all, err := scanDebs(filepath.Join(o.Out, "pool"), true)
	if err != nil {
		return nil, err
	}
	byComp := map[string][]*Package{}
	var dropped []*Package
	for comp, pkgs := range groupByComponent(o.Out, all) {
		kept, drop, err := prune(pkgs, o.Keep)
		if err != nil {
			return nil, err
		}
		byComp[comp] = kept
		res.Indexed += len(kept)
		dropped = append(dropped, drop...)
	}
	if err := writeSuite(o, byComp); err != nil {
		return nil, err
	}
	// Only now that no index names them: drop the pruned files.
	for _, p := range dropped {
		if err := os.Remove(p.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, fmt.Errorf("prune: %w", err)
		}
		res.Pruned = append(res.Pruned, rel(o.Out, p.Path))
		removeEmptyDirs(filepath.Dir(p.Path), filepath.Join(o.Out, "pool"))
	}
	return res, nil
}

// addToPool copies the new packages into the pool, after checking that
// none would replace a published file with different bytes: a version, once
// published, keeps its contents (apt caches by version).
func addToPool(o Options, pkgs []*Package, res *Result) error {
	type move struct {
		p   *Package
		dst string
	}
	var moves []move
	seen := map[string]*Package{}
	for _, p := range pkgs {
		dst := filepath.Join(o.Out, p.poolPath(o.Component))
		if q, ok := seen[dst]; ok {
			return fmt.Errorf("%s and %s are both %s", q.Path, p.Path, rel(o.Out, dst))
		}
		seen[dst] = p
		switch _, sum, err := debfile.Hash(dst); {
		case errors.Is(err, os.ErrNotExist):
			moves = append(moves, move{p, dst})
		case err != nil:
			return err
		case sum == p.SHA256:
			res.Present = append(res.Present, rel(o.Out, dst))
		default:
			return fmt.Errorf("%s: %s already holds a different %s %s (%s); a published version must not change: build a new version", p.Path, rel(o.Out, dst), p.Name, p.Version, p.Arch)
		}
	}
	for _, m := range moves {
		if err := copyFile(m.p.Path, m.dst, m.p.SHA256); err != nil {
			return err
		}
		res.Added = append(res.Added, rel(o.Out, m.dst))
	}
	return nil
}

// groupByComponent sorts pool packages by pool/COMPONENT/.
func groupByComponent(root string, pkgs []*Package) map[string][]*Package {
	out := map[string][]*Package{}
	for _, p := range pkgs {
		parts := strings.Split(filepath.ToSlash(rel(filepath.Join(root, "pool"), p.Path)), "/")
		if len(parts) < 2 || !namePart().MatchString(parts[0]) {
			continue // a .deb loose in pool/: not in any component
		}
		out[parts[0]] = append(out[parts[0]], p)
	}
	return out
}

// writeSuite writes dists/SUITE into a new directory and puts it in
// place of the old one.
func writeSuite(o Options, byComp map[string][]*Package) error {
	root, _ := filepath.Abs(o.Out)
	files, err := suiteFiles(byComp, func(p *Package) string { return rel(root, p.Path) })
	if err != nil {
		return err
	}
	comps := make([]string, 0, len(byComp))
	for c := range byComp {
		comps = append(comps, c)
	}
	sort.Strings(comps)
	ri := ReleaseInfo{Origin: "webui", Label: "webui", Suite: o.Suite, Codename: o.Suite,
		Description: "webui for Termux and Debian", Components: comps, Date: o.Date}
	if o.ValidFor > 0 {
		ri.ValidUntil = o.Date.Add(o.ValidFor)
	}
	release := releaseFile(ri, files)
	inRelease, err := o.Key.ClearSign(release, o.Now)
	if err != nil {
		return fmt.Errorf("sign InRelease: %w", err)
	}
	detached, err := o.Key.DetachSign(release, o.Now)
	if err != nil {
		return fmt.Errorf("sign Release.gpg: %w", err)
	}
	files = append(files, indexFile{"Release", release}, indexFile{"InRelease", inRelease}, indexFile{"Release.gpg", detached})

	dists := filepath.Join(o.Out, "dists")
	if err := os.MkdirAll(dists, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dists, "."+o.Suite+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(tmp, f.Name), f.Data); err != nil {
			return err
		}
	}
	return replaceDir(tmp, filepath.Join(dists, o.Suite))
}

// replaceDir puts dir at dst in one step: an exchange of the two when dst
// exists (tmp then holds the old tree, which the caller removes), else a
// rename. Without renameat2 (old kernels, some file systems) the old tree
// is moved aside first, a window of a rename's length.
func replaceDir(dir, dst string) error {
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		return os.Rename(dir, dst)
	}
	err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	if err == nil {
		return syncDir(filepath.Dir(dst))
	}
	old := dir + ".old"
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(dir, dst); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	// The caller removes dir; old goes here.
	if err := os.Rename(old, dir); err != nil {
		return os.RemoveAll(old)
	}
	return syncDir(filepath.Dir(dst))
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}

// removeEmptyDirs removes dir and its parents while empty, up to stop.
func removeEmptyDirs(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
