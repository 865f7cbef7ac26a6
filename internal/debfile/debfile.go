// Package debfile reads .deb packages: the control file of the control
// member, and the paths of the data member. Self-update checks what a .deb
// claims to be with it; the apt repository builder indexes .debs with it.
package debfile

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/proc"
)

// MaxControl bounds the control file read from a package.
const MaxControl = 1 << 20

// Control returns the control file of the .deb at path: the ./control
// entry of its control.tar(.gz|.xz|.zst) member.
func Control(path string) ([]byte, error) {
	var out []byte
	err := member(path, "control.tar", func(tr *tar.Reader) error {
		for {
			h, err := tr.Next()
			if err != nil {
				return errors.New("no control file in the .deb")
			}
			if strings.TrimPrefix(h.Name, "./") != "control" {
				continue
			}
			out, err = io.ReadAll(io.LimitReader(tr, MaxControl))
			return err
		}
	})
	return out, err
}

// DataPaths lists the entries of the .deb's data member (at most max), as
// the tar names them ("./usr/bin/webui").
func DataPaths(path string, max int) ([]string, error) {
	var out []string
	err := member(path, "data.tar", func(tr *tar.Reader) error {
		for len(out) < max {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("data member: %w", err)
			}
			out = append(out, h.Name)
		}
		return nil
	})
	return out, err
}

// member finds the ar member whose name starts with prefix and hands its
// decompressed tar to fn.
func member(path, prefix string, fn func(*tar.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return errors.New("not a .deb (no ar header)")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return fmt.Errorf("no %s member in the .deb", prefix)
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return errors.New("corrupt ar header in the .deb")
		}
		body := io.LimitReader(r, size)
		if strings.HasPrefix(name, prefix) {
			rd, err := decompress(name, prefix, body)
			if errors.Is(err, errOtherCompression) {
				return viaDpkgDeb(path, prefix, fn)
			}
			if err != nil {
				return err
			}
			return fn(tar.NewReader(rd))
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		if size%2 == 1 {
			_, _ = r.ReadByte()
		}
	}
}

// errOtherCompression: an xz or zstd member, which dpkg-deb reads.
var errOtherCompression = errors.New("member compressed with xz or zstd")

func decompress(name, prefix string, body io.Reader) (io.Reader, error) {
	switch strings.TrimPrefix(name, prefix) {
	case "":
		return body, nil
	case ".gz":
		return gzip.NewReader(body)
	case ".xz", ".zst":
		return nil, errOtherCompression
	}
	return nil, fmt.Errorf("unsupported member %s", name)
}

// viaDpkgDeb reads an xz or zstd member through dpkg-deb. The project's own
// packages (nfpm) use gzip; decoding the other two in-process would link,
// and initialise at every start of the server, two decompressors for a case
// that only packages built by dpkg-deb hit, and where those install, dpkg-deb
// is there.
func viaDpkgDeb(path, prefix string, fn func(*tar.Reader) error) error {
	bin, err := proc.LookPath("dpkg-deb")
	if err != nil {
		return fmt.Errorf("%s: its %s member is compressed with xz or zstd, and reading it needs dpkg-deb, which is not in PATH", path, prefix)
	}
	flag := "--ctrl-tarfile"
	if prefix == "data.tar" {
		flag = "--fsys-tarfile"
	}
	out, err := os.CreateTemp("", "webui-deb-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, err := proc.Run(ctx, bin, []string{bin, flag, path}, proc.Attr{Stdout: out})
	if err == nil && (ws.Signaled() || ws.ExitStatus() != 0) {
		err = fmt.Errorf("exit status %d", ws.ExitStatus())
	}
	if err != nil {
		return fmt.Errorf("dpkg-deb %s %s: %w", flag, path, err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return fn(tar.NewReader(out))
}
