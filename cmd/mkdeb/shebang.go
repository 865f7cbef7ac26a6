package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// shebangRe is termux-fix-shebang's rule: an interpreter in any bin
// directory (#!/bin/sh, #!/usr/bin/env) moves to $PREFIX/bin. Only the
// first line is touched.
var shebangRe = regexp.MustCompile(`^#!\s*(\S*)/bin/(\S.*)?$`)

// fixShebang rewrites a script's first line for a Termux prefix, as
// termux-fix-shebang does: the tree keeps #!/bin/sh so a clone runs on
// Linux, and the Termux package gets #!$PREFIX/bin/sh (Android has no
// /bin/sh). It reports whether it changed anything.
func fixShebang(b []byte, prefix string) ([]byte, bool) {
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	m := shebangRe.FindSubmatch(line)
	if m == nil || string(m[1]) == prefix {
		return b, false
	}
	out := append([]byte("#!"+prefix+"/bin/"), m[2]...)
	if len(rest) > 0 || bytes.Contains(b, []byte("\n")) {
		out = append(append(out, '\n'), rest...)
	}
	return out, true
}

// stageShebang returns src, or a copy of it in stage with the Termux
// shebang when src is a script that needs one.
func stageShebang(src, stage, prefix string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", err
	}
	head := make([]byte, 2)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "#!" {
		return src, nil // not a script (the binary, a config file)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	fixed, changed := fixShebang(b, prefix)
	if !changed {
		return src, nil
	}
	dir, err := os.MkdirTemp(stage, "shebang-")
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(src))
	return dst, os.WriteFile(dst, fixed, 0o755)
}
