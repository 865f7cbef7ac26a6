package packaging_test

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// file is one expected regular file of a package.
type file struct {
	path string // without the leading ./
	mode string // as dpkg-deb -c prints it
}

// expectedFiles is every regular file a target's package must hold, and
// nothing else. Entries whose source may not exist yet are included only
// when it does.
func expectedFiles(tg target) []file {
	var fs []file
	add := func(path, mode string) { fs = append(fs, file{path, mode}) }
	if tg.family == "termux" {
		p := strings.TrimPrefix(termuxPrefix, "/") + "/"
		add(p+"bin/webui", "-rwxr-xr-x")
		add(p+"etc/webui/webui.conf", "-rw-r--r--")
		add(p+"var/service/webui/run", "-rwxr-xr-x")
		add(p+"var/service/webui/finish", "-rwxr-xr-x")
		add(p+"var/service/webui/down", "-rw-r--r--")
		add(p+"var/service/webui/log/run", "-rwxr-xr-x")
		add(p+"share/webui/termux-boot/webui", "-rwxr-xr-x")
		add(p+"share/doc/webui/copyright", "-rw-r--r--")
		if exists("README.md") {
			add(p+"share/doc/webui/README.md", "-rw-r--r--")
		}
		add(p+"bin/start-webui", "-rwxr-xr-x")
		add(p+"bin/webui-watchdog-loop", "-rwxr-xr-x")
	} else {
		// proot-distro and containers have no systemd: the launchers too.
		add("usr/bin/start-webui", "-rwxr-xr-x")
		add("usr/bin/webui-watchdog-loop", "-rwxr-xr-x")
		add("usr/bin/webui", "-rwxr-xr-x")
		add("etc/webui/webui.conf", "-rw-r--r--")
		add("usr/lib/systemd/system/webui.service", "-rw-r--r--")
		add("usr/share/doc/webui/copyright", "-rw-r--r--")
		add("usr/share/doc/webui/changelog.gz", "-rw-r--r--")
		add("usr/share/lintian/overrides/webui", "-rw-r--r--")
		if exists("README.md") {
			add("usr/share/doc/webui/README.md", "-rw-r--r--")
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].path < fs[j].path })
	return fs
}

// listing is one line of dpkg-deb -c.
type listing struct {
	mode, owner, date, path string
}

func parseListing(t *testing.T, out string) []listing {
	t.Helper()
	var ls []listing
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c line %q", line)
		}
		ls = append(ls, listing{mode: f[0], owner: f[1], date: f[3] + " " + f[4], path: strings.TrimPrefix(f[5], "./")})
	}
	return ls
}

// TestDebContents inspects every package with dpkg-deb: control fields,
// file list, modes, owners, times, conffiles, maintainer scripts, and the
// binary inside.
func TestDebContents(t *testing.T) {
	t.Parallel()
	dpkgDeb := tool(t, "dpkg-deb")
	dist := mainDebs(t)
	wantDate := time.Unix(epoch, 0).UTC().Format("2006-01-02 15:04")

	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			deb := debPath(dist, v1, tg.name)
			if _, err := os.Stat(deb); err != nil {
				t.Fatalf("no package: %v", err)
			}

			// Control fields. Termux's dpkg refuses arm64, amd64 and the
			// like: the Architecture must be exactly its own name.
			fields := map[string]string{
				"Package":      "webui",
				"Version":      v1,
				"Architecture": tg.arch,
			}
			if tg.family == "termux" {
				fields["Depends"] = "resolv-conf, ca-certificates"
				fields["Suggests"] = "termux-services"
				fields["Recommends"] = ""
			} else {
				fields["Depends"] = "adduser"
				fields["Recommends"] = "ca-certificates"
				fields["Suggests"] = ""
			}
			for name, want := range fields {
				if got := strings.TrimSpace(output(t, dpkgDeb, "-f", deb, name)); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			info := output(t, dpkgDeb, "-I", deb)
			for _, want := range []string{"Maintainer: ", "Description: ", "Homepage: ", "Installed-Size: "} {
				if !strings.Contains(info, want) {
					t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
				}
			}

			// Data: exactly the expected files, every path under the
			// family's prefix, directories 0755, all root:root at
			// SOURCE_DATE_EPOCH.
			var gotFiles []file
			for _, l := range parseListing(t, output(t, dpkgDeb, "-c", deb)) {
				if l.owner != "root/root" {
					t.Errorf("%s: owner %s", l.path, l.owner)
				}
				if l.date != wantDate {
					t.Errorf("%s: time %s, want %s (SOURCE_DATE_EPOCH)", l.path, l.date, wantDate)
				}
				if !underPrefix(tg, l.path) {
					t.Errorf("%s is outside the %s layout", l.path, tg.family)
				}
				switch l.mode[0] {
				case 'd':
					if l.mode != "drwxr-xr-x" {
						t.Errorf("%s: directory mode %s", l.path, l.mode)
					}
				case '-':
					gotFiles = append(gotFiles, file{l.path, l.mode})
				default:
					t.Errorf("%s: unexpected entry type %s", l.path, l.mode)
				}
			}
			sort.Slice(gotFiles, func(i, j int) bool { return gotFiles[i].path < gotFiles[j].path })
			if want := expectedFiles(tg); !equalFiles(gotFiles, want) {
				t.Errorf("files:\n got  %v\n want %v", gotFiles, want)
			}

			// Control archive: conffiles and maintainer scripts.
			ctrl := tarFiles(t, output(t, dpkgDeb, "--ctrl-tarfile", deb))
			wantConf := []string{"/etc/webui/webui.conf"}
			shebang := "#!/bin/sh"
			if tg.family == "termux" {
				wantConf = []string{
					termuxPrefix + "/etc/webui/webui.conf",
					termuxPrefix + "/var/service/webui/down",
					termuxPrefix + "/var/service/webui/finish",
					termuxPrefix + "/var/service/webui/log/run",
					termuxPrefix + "/var/service/webui/run",
				}
				shebang = "#!" + termuxPrefix + "/bin/sh"
			}
			gotConf := strings.Fields(string(ctrl["conffiles"].body))
			sort.Strings(gotConf)
			if strings.Join(gotConf, "\n") != strings.Join(wantConf, "\n") {
				t.Errorf("conffiles = %q, want %q", gotConf, wantConf)
			}
			if _, ok := ctrl["md5sums"]; !ok {
				t.Error("no md5sums")
			}
			if _, ok := ctrl["preinst"]; ok {
				t.Error("unexpected preinst")
			}
			for _, s := range []string{"postinst", "prerm", "postrm"} {
				e, ok := ctrl[s]
				if !ok {
					t.Errorf("no %s", s)
					continue
				}
				if e.mode != 0o755 {
					t.Errorf("%s: mode %o", s, e.mode)
				}
				if first, _, _ := strings.Cut(string(e.body), "\n"); first != shebang {
					t.Errorf("%s: shebang %q, want %q", s, first, shebang)
				}
				checkShellSyntax(t, s, e.body)
				if tg.family == "linux" && !strings.Contains(string(e.body), "\nset -e\n") {
					t.Errorf("%s: no set -e", s)
				}
			}
			// Scripts on the PATH use the family's shell: Termux's, or
			// /bin/sh (the tree's; mkdeb rewrites it for Termux). Both
			// launchers ship in every package.
			data := tarFiles(t, output(t, dpkgDeb, "--fsys-tarfile", deb))
			launchers := 0
			for path, e := range data {
				if e.mode&0o111 != 0 && bytes.HasPrefix(e.body, []byte("#!")) {
					if first, _, _ := strings.Cut(string(e.body), "\n"); first != shebang {
						t.Errorf("%s: shebang %q, want %q", path, first, shebang)
					}
					checkShellSyntax(t, path, e.body)
				}
				if strings.HasSuffix(path, "bin/start-webui") || strings.HasSuffix(path, "bin/webui-watchdog-loop") {
					launchers++
				}
			}
			if launchers != 2 {
				t.Errorf("%d of the 2 launchers (start-webui, webui-watchdog-loop) in the package", launchers)
			}

			checkBinary(t, tg, deb)
		})
	}
}

func underPrefix(tg target, path string) bool {
	path = strings.TrimSuffix(path, "/")
	var roots []string
	if tg.family == "termux" {
		roots = []string{strings.TrimPrefix(termuxPrefix, "/")}
	} else {
		roots = []string{"usr", "etc"}
	}
	for _, r := range roots {
		// The root itself, below it, or one of its parent directories.
		if path == r || strings.HasPrefix(path, r+"/") || strings.HasPrefix(r, path+"/") || path == "." || path == "" {
			return true
		}
	}
	return false
}

func equalFiles(a, b []file) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type tarFile struct {
	mode int64
	body []byte
}

// tarFiles reads a tar stream (as dpkg-deb --ctrl-tarfile and --fsys-tarfile
// write it) into memory.
func tarFiles(t *testing.T, stream string) map[string]tarFile {
	t.Helper()
	out := map[string]tarFile{}
	tr := tar.NewReader(strings.NewReader(stream))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(h.Name, "./")] = tarFile{h.Mode, body}
	}
}

// checkShellSyntax runs `sh -n` on a script.
func checkShellSyntax(t *testing.T, name string, script []byte) {
	t.Helper()
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = bytes.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n: %v\n%s", name, err, out)
	}
}

// checkBinary extracts bin/webui and checks what was built: architecture,
// static or Android-linked, stripped (-s -w), -trimpath, CGO_ENABLED=0 and
// the version linked in.
func checkBinary(t *testing.T, tg target, deb string) {
	t.Helper()
	root := t.TempDir()
	output(t, "dpkg-deb", "-x", deb, root)
	bin := filepath.Join(root, "usr/bin/webui")
	if tg.family == "termux" {
		bin = filepath.Join(root, termuxPrefix, "bin/webui")
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("bin/webui: %v", err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "amd64": elf.EM_X86_64, "386": elf.EM_386}[tg.goarch]
	if f.Machine != machine {
		t.Errorf("ELF machine %v, want %v", f.Machine, machine)
	}
	var interp string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(p.Open())
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if tg.goos == "android" {
		if interp != "/system/bin/linker64" {
			t.Errorf("interpreter %q, want /system/bin/linker64", interp)
		}
	} else if interp != "" {
		t.Errorf("interpreter %q: want a static binary", interp)
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("links shared libraries %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("not stripped: has .symtab")
	}

	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	want := map[string]string{"GOOS": tg.goos, "GOARCH": tg.goarch, "CGO_ENABLED": "0", "-trimpath": "true"}
	if tg.goarm != "" {
		want["GOARM"] = tg.goarm
	}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("build setting %s=%q, want %q", k, settings[k], v)
		}
	}
	// -trimpath keeps -ldflags out of the build info: look at the result.
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("built without -w: has %s", s.Name)
		}
	}
	if raw, err := os.ReadFile(bin); err != nil || !bytes.Contains(raw, []byte(v1)) {
		t.Errorf("the version %s is not linked in (%v)", v1, err)
	}
	if bi.Path != "github.com/termux-webui/webui/cmd/webui" {
		t.Errorf("main package %q", bi.Path)
	}
}
