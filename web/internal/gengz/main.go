// Command gengz writes the gzip copies of the console's text files into
// web/gz (run by `go generate ./web`, which `make build` does), so the
// server sends browsers compressed bytes without compressing at run time.
// The output is reproducible: no name or time in the gzip header, and
// gz/SUMS records which source each copy was made from, so a copy that
// falls behind its source is never served.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// compressible are the text types worth compressing; PNGs already are.
var compressible = map[string]bool{".html": true, ".css": true, ".js": true, ".svg": true, ".webmanifest": true}

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "gengz:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	src := os.DirFS(root)
	var names []string
	for _, pat := range []string{"index.html", "manifest.webmanifest", "assets"} {
		err := fs.WalkDir(src, pat, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && compressible[path.Ext(p)] {
				names = append(names, p)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	sort.Strings(names)
	out := filepath.Join(root, "gz")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	var sums strings.Builder
	for _, n := range names {
		data, err := fs.ReadFile(src, n)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if b.Len() >= len(data)*9/10 {
			continue // not worth a Content-Encoding
		}
		dst := filepath.Join(out, filepath.FromSlash(n)+".gz")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s %s\n", hex.EncodeToString(sum[:8]), n)
	}
	return os.WriteFile(filepath.Join(out, "SUMS"), []byte(sums.String()), 0o644)
}
