package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// These tests package stand-in binaries (--skip-build), so they need
// neither a cross compiler nor dpkg; test/packaging checks real builds with
// dpkg itself.

const testEpoch = 1700000000

func packageFake(t *testing.T, dist string, only string) (stdout, stderr string) {
	t.Helper()
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	sel, err := selectTargets(only)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range sel {
		bin := filepath.Join(dist, "webui-"+tg.Name)
		if err := os.WriteFile(bin, []byte("#!/bin/sh\necho "+tg.Name+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SOURCE_DATE_EPOCH": fmt.Sprint(testEpoch)}
	var out, errOut bytes.Buffer
	args := []string{"--config", "../../nfpm.yaml", "--dist", dist, "--skip-build", "--only", only, "--version", "1.2.3~test"}
	if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("mkdeb %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// debMember returns the named member of an ar archive.
func debMember(t *testing.T, deb []byte, name string) []byte {
	t.Helper()
	if !bytes.HasPrefix(deb, []byte("!<arch>\n")) {
		t.Fatal("not an ar archive")
	}
	rest := deb[8:]
	for len(rest) >= 60 {
		hdr := rest[:60]
		var size int
		fmt.Sscan(strings.TrimSpace(string(hdr[48:58])), &size)
		member := strings.TrimSuffix(strings.TrimSpace(string(hdr[:16])), "/")
		body := rest[60 : 60+size]
		if member == name {
			return body
		}
		rest = rest[60+size+size%2:]
	}
	t.Fatalf("no %s in the package", name)
	return nil
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

func readTarGz(t *testing.T, data []byte) map[string]tarEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(h.Name, "./")] = tarEntry{h, body}
	}
}

func TestPackageLayout(t *testing.T) {
	dist := t.TempDir()
	stdout, stderr := packageFake(t, dist, "termux-aarch64,linux-amd64")

	debs := strings.Fields(stdout)
	if len(debs) != 2 || filepath.Base(debs[0]) != "webui_1.2.3~test_aarch64.deb" || filepath.Base(debs[1]) != "webui_1.2.3~test_amd64.deb" {
		t.Fatalf("packages: %q", debs)
	}
	_, startErr := os.Stat("../../scripts/start-webui.sh")
	if os.IsNotExist(startErr) && !strings.Contains(stderr, "skipping /data/data/com.termux/files/usr/bin/start-webui") {
		t.Errorf("no warning for the missing launcher script:\n%s", stderr)
	}

	tests := []struct {
		deb       string
		arch      string
		conffiles []string
		want      map[string]int64 // path -> mode; must be present
		prefixes  []string
		conf      string // a line the rendered config must contain
	}{
		{
			deb:  debs[0],
			arch: "aarch64",
			conffiles: []string{
				"/data/data/com.termux/files/usr/etc/webui/webui.conf",
				"/data/data/com.termux/files/usr/var/service/webui/down",
				"/data/data/com.termux/files/usr/var/service/webui/finish",
				"/data/data/com.termux/files/usr/var/service/webui/log/run",
				"/data/data/com.termux/files/usr/var/service/webui/run",
			},
			want: map[string]int64{
				"data/data/com.termux/files/usr/bin/webui":                     0o755,
				"data/data/com.termux/files/usr/etc/webui/webui.conf":          0o644,
				"data/data/com.termux/files/usr/var/service/webui/run":         0o755,
				"data/data/com.termux/files/usr/var/service/webui/down":        0o644,
				"data/data/com.termux/files/usr/share/webui/termux-boot/webui": 0o755,
				"data/data/com.termux/files/usr/share/doc/webui/copyright":     0o644,
				"data/data/com.termux/files/usr/var/service/webui/log/run":     0o755,
			},
			prefixes: []string{"data/data/com.termux/files/usr/"},
			conf:     "#state_dir = /data/data/com.termux/files/usr/var/lib/webui",
		},
		{
			deb:       debs[1],
			arch:      "amd64",
			conffiles: []string{"/etc/webui/webui.conf"},
			want: map[string]int64{
				"usr/bin/webui":                        0o755,
				"etc/webui/webui.conf":                 0o644,
				"usr/lib/systemd/system/webui.service": 0o644,
				"usr/share/doc/webui/copyright":        0o644,
				"usr/share/doc/webui/changelog.gz":     0o644,
				"usr/share/lintian/overrides/webui":    0o644,
			},
			prefixes: []string{"usr/", "etc/"},
			conf:     "#state_dir = /var/lib/webui",
		},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			deb, err := os.ReadFile(tt.deb)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(debMember(t, deb, "debian-binary")); got != "2.0\n" {
				t.Errorf("debian-binary = %q", got)
			}
			ctrl := readTarGz(t, debMember(t, deb, "control.tar.gz"))
			control := string(ctrl["control"].body)
			if !strings.Contains(control, "\nArchitecture: "+tt.arch+"\n") || !strings.Contains(control, "\nVersion: 1.2.3~test\n") {
				t.Errorf("control:\n%s", control)
			}
			gotConf := strings.Fields(string(ctrl["conffiles"].body))
			sort.Strings(gotConf)
			if strings.Join(gotConf, " ") != strings.Join(tt.conffiles, " ") {
				t.Errorf("conffiles = %q, want %q", gotConf, tt.conffiles)
			}
			for _, s := range []string{"postinst", "prerm", "postrm"} {
				if e, ok := ctrl[s]; !ok || e.hdr.Mode != 0o755 {
					t.Errorf("maintainer script %s missing or not 0755", s)
				}
			}

			data := readTarGz(t, debMember(t, deb, "data.tar.gz"))
			for path, mode := range tt.want {
				e, ok := data[path]
				if !ok {
					t.Errorf("%s is missing", path)
					continue
				}
				if e.hdr.Mode != mode {
					t.Errorf("%s: mode %o, want %o", path, e.hdr.Mode, mode)
				}
			}
			for path, e := range data {
				if e.hdr.ModTime.Unix() != testEpoch {
					t.Errorf("%s: mtime %s, want SOURCE_DATE_EPOCH", path, e.hdr.ModTime.UTC().Format(time.RFC3339))
				}
				if e.hdr.Uname != "root" || e.hdr.Gname != "root" {
					t.Errorf("%s: owner %s:%s", path, e.hdr.Uname, e.hdr.Gname)
				}
				under := false
				for _, p := range tt.prefixes {
					under = under || strings.HasPrefix(path, p) || strings.HasPrefix(p, path)
				}
				if !under {
					t.Errorf("%s is outside %q", path, tt.prefixes)
				}
			}
			conf := string(data[strings.TrimPrefix(tt.conffiles[0], "/")].body)
			if !strings.Contains(conf, tt.conf+"\n") || strings.Contains(conf, "@") {
				t.Errorf("rendered config lacks %q or kept a placeholder:\n%s", tt.conf, conf)
			}
		})
	}
}

func TestPackageReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	outA, _ := packageFake(t, a, "termux-x86_64,linux-arm64")
	outB, _ := packageFake(t, b, "termux-x86_64,linux-arm64")
	debsA, debsB := strings.Fields(outA), strings.Fields(outB)
	if len(debsA) != 2 || len(debsB) != 2 {
		t.Fatalf("packages: %q, %q", debsA, debsB)
	}
	for i := range debsA {
		x, _ := os.ReadFile(debsA[i])
		y, _ := os.ReadFile(debsB[i])
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", filepath.Base(debsA[i]))
		}
	}
}

func TestPackageNeedsBinary(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"--config", "../../nfpm.yaml", "--dist", t.TempDir(), "--skip-build", "--only", "linux-amd64", "--version", "1.0.0"},
		func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "binary") {
		t.Fatalf("packaging without a binary: %v", err)
	}
}
