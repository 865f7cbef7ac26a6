// Package debtest builds small .deb files for tests of the code that reads
// and indexes them (update, aptrepo).
package debtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
)

// Deb is a minimal .deb: debian-binary, control.tar.gz with ./control, and
// a data.tar.gz holding one file, body at dataPath ("./usr/bin/webui").
func Deb(pkg, version, arch, dataPath, body string) []byte {
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: test <t@example.org>\nDescription: test package\n a longer text\n", pkg, version, arch)
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	member := func(name string, data []byte) {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "100644", len(data))
		ar.Write(data)
		if len(data)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	member("debian-binary", []byte("2.0\n"))
	member("control.tar.gz", tgz("./control", control))
	member("data.tar.gz", tgz(dataPath, body))
	return ar.Bytes()
}

// tgz is a gzipped tar of the dir "./" and one file.
func tgz(name, body string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "./", Mode: 0o755, Typeflag: tar.TypeDir})
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(body))
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}
