package update

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

// errOtherCompression: a control member this package does not decompress.
var errOtherCompression = errors.New("control member compressed with xz or zstd")

// debInfo is what a .deb's control file says.
type debInfo struct {
	Package, Version, Architecture string
}

// readDebControl reads the control file of a .deb: an ar archive whose
// control.tar(.gz|.xz|.zst) member holds ./control. The project's packages
// (nfpm) use control.tar.gz, read here; the xz and zstd that dpkg-deb may
// use are left to dpkg-deb itself, so the server does not link (and
// initialise at every start) two decompressors for a rare case.
func readDebControl(path string) (debInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return debInfo{}, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return debInfo{}, errors.New("not a .deb (no ar header)")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return debInfo{}, errors.New("no control member in the .deb")
		}
		name := strings.TrimRight(strings.TrimSpace(string(hdr[:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return debInfo{}, errors.New("corrupt ar header in the .deb")
		}
		body := io.LimitReader(r, size)
		if strings.HasPrefix(name, "control.tar") {
			d, err := parseControlTar(name, body)
			if errors.Is(err, errOtherCompression) {
				return dpkgDebFields(path)
			}
			return d, err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return debInfo{}, err
		}
		if size%2 == 1 {
			_, _ = r.ReadByte()
		}
	}
}

func parseControlTar(name string, body io.Reader) (debInfo, error) {
	var rd io.Reader
	switch name {
	case "control.tar":
		rd = body
	case "control.tar.gz":
		z, err := gzip.NewReader(body)
		if err != nil {
			return debInfo{}, err
		}
		rd = z
	case "control.tar.xz", "control.tar.zst":
		return debInfo{}, errOtherCompression
	default:
		return debInfo{}, fmt.Errorf("unsupported control member %s", name)
	}
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if err != nil {
			return debInfo{}, errors.New("no control file in the .deb")
		}
		if strings.TrimPrefix(h.Name, "./") != "control" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return debInfo{}, err
		}
		return parseControl(b), nil
	}
}

// parseControl reads the fields webui checks from control file text.
func parseControl(b []byte) debInfo {
	var d debInfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Package":
			d.Package = strings.TrimSpace(v)
		case "Version":
			d.Version = strings.TrimSpace(v)
		case "Architecture":
			d.Architecture = strings.TrimSpace(v)
		}
	}
	return d
}

// dpkgDebFields asks dpkg-deb for the fields, for a control member
// compressed with xz or zstd. Where such a package can be installed, dpkg
// (and with it dpkg-deb) is there.
func dpkgDebFields(path string) (debInfo, error) {
	bin, err := proc.LookPath("dpkg-deb")
	if err != nil {
		return debInfo{}, fmt.Errorf("the .deb's control data is compressed with xz or zstd and reading it needs dpkg-deb, which is not in PATH")
	}
	out, err := os.CreateTemp("", "webui-deb-fields-")
	if err != nil {
		return debInfo{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, err := proc.Run(ctx, bin, []string{bin, "--field", path, "Package", "Version", "Architecture"}, proc.Attr{Stdout: out})
	if err == nil && (ws.Signaled() || ws.ExitStatus() != 0) {
		err = fmt.Errorf("exit status %d", ws.ExitStatus())
	}
	if err != nil {
		return debInfo{}, fmt.Errorf("dpkg-deb --field %s: %w", path, err)
	}
	b, err := io.ReadAll(io.NewSectionReader(out, 0, 1<<20))
	if err != nil {
		return debInfo{}, err
	}
	return parseControl(b), nil
}
