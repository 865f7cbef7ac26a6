package main

import (
	"bytes"
	"compress/gzip"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	"github.com/goreleaser/nfpm/v2/files"
)

// packageTarget writes the .deb of t into o.dist and returns its path.
func packageTarget(o options, t Target, bin string, warn io.Writer) (string, error) {
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("binary: %w (build it, or drop --skip-build)", err)
	}
	stage, err := os.MkdirTemp("", "mkdeb-"+t.Name+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)

	info, err := loadInfo(o, t, bin, stage)
	if err != nil {
		return "", err
	}
	if err := renderStage(o, t, info, bin, stage); err != nil {
		return "", err
	}
	if err := resolveContents(o, t, info, stage, warn); err != nil {
		return "", err
	}

	pkgr, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	name := pkgr.ConventionalFileName(info)
	out := filepath.Join(o.dist, name)
	tmp := filepath.Join(o.dist, "."+name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return "", err
	}
	return out, os.Rename(tmp, out)
}

// loadInfo reads nfpm.yaml for t: variables expanded, the family's overrides
// merged and the contents narrowed to the family.
func loadInfo(o options, t Target, bin, stage string) (*nfpm.Info, error) {
	lay := t.Family.layout()
	vars := map[string]string{
		"PREFIX":     lay.Prefix,
		"SYSCONFDIR": lay.SysConfDir,
		"DEB_ARCH":   t.DebArch,
		"VERSION":    o.version,
		"BINARY":     bin,
		"STAGE":      stage,
	}
	var unknown []string
	mapping := func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		// nfpm looks up its signing passphrases itself; leave them unset.
		if !strings.HasPrefix(name, "NFPM_") {
			unknown = append(unknown, name)
		}
		return ""
	}
	cfg, err := nfpm.ParseFileWithEnvMapping(o.config, mapping)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.config, err)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s: unknown variables %s (known: %s)", o.config, strings.Join(unknown, ", "), strings.Join(sortedKeys(vars), ", "))
	}
	if _, ok := cfg.Overrides[string(t.Family)]; !ok {
		return nil, fmt.Errorf("%s: no overrides.%s section", o.config, t.Family)
	}
	// Get merges overrides.<family> and keeps the contents whose packager is
	// the family or empty.
	info, err := cfg.Get(string(t.Family))
	if err != nil {
		return nil, err
	}

	// The Architecture field is written as given: nfpm would turn aarch64
	// into arm64 and x86_64 into amd64, which Termux's dpkg refuses.
	info.Deb.Arch = info.Arch
	info.MTime = time.Unix(o.epoch, 0).UTC()
	info.Target = ""
	nfpm.WithDefaults(info)
	return info, nil
}

// resolveContents resolves relative sources against the source tree, and
// drops, with a warning, the entries whose source does not exist.
// Maintainer scripts must exist.
func resolveContents(o options, t Target, info *nfpm.Info, stage string, warn io.Writer) error {
	var kept files.Contents
	for _, c := range info.Contents {
		// The family tag has done its job; the deb packager keeps only
		// entries tagged "deb" or untagged.
		c.Packager = ""
		switch c.Type {
		case files.TypeDir, files.TypeImplicitDir, files.TypeSymlink, files.TypeRPMGhost:
			kept = append(kept, c)
			continue
		}
		c.Source = o.abs(c.Source)
		if _, err := os.Stat(c.Source); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(warn, "mkdeb: warning: %s: skipping %s: %s does not exist\n", t.Name, c.Destination, o.rel(c.Source))
			continue
		} else if err != nil {
			return err
		}
		if t.Family == Termux {
			// Scripts keep #!/bin/sh in the tree; Android has no /bin/sh.
			src, err := stageShebang(c.Source, stage, t.Family.layout().Prefix)
			if err != nil {
				return err
			}
			c.Source = src
		}
		kept = append(kept, c)
	}
	info.Contents = kept
	for _, s := range []*string{&info.Scripts.PreInstall, &info.Scripts.PostInstall, &info.Scripts.PreRemove, &info.Scripts.PostRemove} {
		if *s == "" {
			continue
		}
		*s = o.abs(*s)
		if _, err := os.Stat(*s); err != nil {
			return fmt.Errorf("maintainer script: %w", err)
		}
	}

	return nfpm.Validate(info)
}

func (o options) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.root, p)
}

func (o options) rel(p string) string {
	if r, err := filepath.Rel(o.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// renderStage writes the files nfpm.yaml takes from $STAGE: the config file
// with this family's default paths, the copyright file, and (Linux) the
// Debian changelog.
func renderStage(o options, t Target, info *nfpm.Info, bin, stage string) error {
	lay := t.Family.layout()
	tmpl, err := os.ReadFile(filepath.Join(o.root, "packaging", "webui.conf"))
	if err != nil {
		return err
	}
	conf := strings.NewReplacer(
		"@CONFIG_FILE@", lay.ConfigFile,
		"@STATE_DIR@", lay.StateDir,
		"@LOG_DIR@", lay.LogDir,
		"@RUN_DIR@", lay.RunDir,
	).Replace(string(tmpl))
	if m := regexp.MustCompile(`@[A-Z_]+@`).FindString(conf); m != "" {
		return fmt.Errorf("packaging/webui.conf: unknown placeholder %s", m)
	}
	if err := os.WriteFile(filepath.Join(stage, "webui.conf"), []byte(conf), 0o644); err != nil {
		return err
	}

	cr, err := copyright(o.root, bin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stage, "copyright"), cr, 0o644); err != nil {
		return err
	}

	if t.Family == Linux {
		cl, err := changelog(info.Name, o.version, info.Maintainer, o.epoch)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(stage, "changelog.gz"), cl, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyright is share/doc/webui/copyright: the project's LICENSE (when the
// tree has one), and the Go modules linked into the binary.
func copyright(root, bin string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("webui: a web console server for phones\n")
	b.WriteString("Source: https://github.com/termux-webui/webui\n")
	b.WriteString("Copyright: the webui authors\n\n")
	lic, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	switch {
	case err == nil:
		b.WriteString("License:\n\n")
		b.Write(bytes.TrimSpace(lic))
		b.WriteString("\n")
	case errors.Is(err, fs.ErrNotExist):
		b.WriteString("License: none chosen yet (the source tree has no LICENSE file).\n")
	default:
		return nil, err
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		// Not a Go binary (a test stand-in): nothing to list.
		return b.Bytes(), nil
	}
	if len(bi.Deps) > 0 {
		b.WriteString("\nThe binary is statically linked with these Go modules, each under its\nown license (see https://pkg.go.dev/<module>?tab=licenses):\n\n")
		fmt.Fprintf(&b, "  Go standard library %s\n", bi.GoVersion)
		for _, d := range bi.Deps {
			m := d
			if d.Replace != nil {
				m = d.Replace
			}
			fmt.Fprintf(&b, "  %s %s\n", m.Path, m.Version)
		}
	}
	return b.Bytes(), nil
}

// changelog is a one-entry Debian changelog, gzipped the way dpkg wants it
// (maximum compression, no name or time in the header).
func changelog(name, version, maintainer string, epoch int64) ([]byte, error) {
	var text bytes.Buffer
	fmt.Fprintf(&text, "%s (%s) unstable; urgency=medium\n\n", name, version)
	fmt.Fprintf(&text, "  * Built by mkdeb from the webui source tree. The changes are listed at\n")
	fmt.Fprintf(&text, "    https://github.com/termux-webui/webui/releases\n\n")
	fmt.Fprintf(&text, " -- %s  %s\n", maintainer, time.Unix(epoch, 0).UTC().Format(time.RFC1123Z))
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(text.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return gz.Bytes(), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
