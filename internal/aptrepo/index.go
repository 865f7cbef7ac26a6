package aptrepo

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/debfile"
)

// stanza is p's paragraph in a Packages index: its control fields, then
// Filename, Size and SHA256, with Description last as dpkg-scanpackages
// writes it.
func stanza(p *Package, filename string) debfile.Paragraph {
	st := p.Control.Without("Filename", "Size", "SHA256", "MD5sum", "SHA1", "SHA512", "Description")
	st = append(st,
		debfile.Field{Name: "Filename", Value: filepath.ToSlash(filename)},
		debfile.Field{Name: "Size", Value: fmt.Sprint(p.Size)},
		debfile.Field{Name: "SHA256", Value: p.SHA256},
	)
	for _, f := range p.Control {
		if strings.EqualFold(f.Name, "Description") {
			st = append(st, f)
		}
	}
	return st
}

// packagesIndex is the Packages file of arch: its own packages and the
// family's "all" packages.
func packagesIndex(pkgs []*Package, arch string, filename func(*Package) string) []byte {
	fam := archFamily(arch)
	var b bytes.Buffer
	for _, p := range pkgs {
		if p.Arch != arch && !(p.Arch == "all" && p.Family == fam) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.Write(stanza(p, filename(p)).Bytes())
	}
	return b.Bytes()
}

// gzipped compresses reproducibly: no name, no time, the same level.
func gzipped(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// indexFile is one file below dists/SUITE/, named relative to it.
type indexFile struct {
	Name string
	Data []byte
}

// ReleaseInfo is what the Release file says about the suite.
type ReleaseInfo struct {
	Origin, Label, Suite, Codename, Description string
	Components                                  []string
	Date                                        time.Time
	ValidUntil                                  time.Time // zero: none
}

// releaseFile is the Release file over the index files: the suite's
// fields, then every index with its size and SHA256.
func releaseFile(ri ReleaseInfo, files []indexFile) []byte {
	arches := append(append([]string{}, TermuxArches...), DebianArches...)
	sort.Strings(arches)
	p := debfile.Paragraph{
		{Name: "Origin", Value: ri.Origin},
		{Name: "Label", Value: ri.Label},
		{Name: "Suite", Value: ri.Suite},
		{Name: "Codename", Value: ri.Codename},
		{Name: "Date", Value: ri.Date.UTC().Format(time.RFC1123)},
	}
	if !ri.ValidUntil.IsZero() {
		p = append(p, debfile.Field{Name: "Valid-Until", Value: ri.ValidUntil.UTC().Format(time.RFC1123)})
	}
	p = append(p,
		debfile.Field{Name: "Architectures", Value: strings.Join(arches, " ")},
		debfile.Field{Name: "Components", Value: strings.Join(ri.Components, " ")},
		debfile.Field{Name: "Description", Value: ri.Description},
	)
	var sums strings.Builder
	for _, f := range files {
		h := sha256.Sum256(f.Data)
		fmt.Fprintf(&sums, "\n %s %8d %s", hex.EncodeToString(h[:]), len(f.Data), f.Name)
	}
	p = append(p, debfile.Field{Name: "SHA256", Value: sums.String()})
	return p.Bytes()
}

// suiteFiles are the index files of every component: Packages and
// Packages.gz for each arch, sorted by name.
// filename is a package's Filename field: its path below the root.
func suiteFiles(byComponent map[string][]*Package, filename func(*Package) string) ([]indexFile, error) {
	var files []indexFile
	for comp, pkgs := range byComponent {
		for _, arch := range append(append([]string{}, TermuxArches...), DebianArches...) {
			dir := comp + "/binary-" + arch + "/"
			plain := packagesIndex(pkgs, arch, filename)
			gz, err := gzipped(plain)
			if err != nil {
				return nil, err
			}
			files = append(files, indexFile{dir + "Packages", plain}, indexFile{dir + "Packages.gz", gz})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}
