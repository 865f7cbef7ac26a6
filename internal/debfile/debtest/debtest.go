// Package debtest builds small .deb files for tests: the ar archive dpkg
// reads, with a control.tar.gz and a data.tar.gz of one file.
package debtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
)

// Build returns a .deb whose control file is control and whose one data
// file is dataPath (e.g. "./usr/bin/webui") holding body.
func Build(control, dataPath, body string) []byte {
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
