package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
)

// defaultRepoURL is where the project publishes its apt repository. Not
// the release downloads (update_url's host): GitHub release assets are one
// flat list of names, and apt's layout needs dists/ and pool/ directories,
// so the repository lives on the project's GitHub Pages site.
const defaultRepoURL = "https://termux-webui.github.io/webui/apt"

// repoConfig is the nfpm config of webui-repo, relative to the tree.
const repoConfig = "packaging/repo/nfpm.yaml"

// keyringName is the keyring webui-repo installs under $PREFIX/share/keyrings.
const keyringName = "webui-archive-keyring.gpg"

// repoFileName is the name of webui-repo's .deb in the dist dir. The two
// families build the same name, version and arch, so Termux's carries a
// tag to live beside Debian's.
func repoFileName(f Family, version string) string {
	if f == Termux {
		return fmt.Sprintf("webui-repo_%s_termux_all.deb", version)
	}
	return fmt.Sprintf("webui-repo_%s_all.deb", version)
}

// sourcesLine is the sources.list.d entry: the repository, trusted only
// with its own keyring.
func sourcesLine(f Family, repoURL string) string {
	keyring := f.layout().Prefix + "/share/keyrings/" + keyringName
	return fmt.Sprintf("# webui's apt repository, added by the webui-repo package.\ndeb [signed-by=%s] %s stable main\n", keyring, strings.TrimRight(repoURL, "/"))
}

// checkKeyring refuses a file that is not a binary OpenPGP public key:
// apt reads an armored key in signed-by= only when the file ends in .asc,
// and a secret key must never be shipped.
func checkKeyring(b []byte) error {
	switch {
	case len(b) == 0:
		return fmt.Errorf("it is empty")
	case bytes.HasPrefix(b, []byte("-----BEGIN PGP PRIVATE")):
		return fmt.Errorf("it is a SECRET key: ship apt.pub.gpg, never apt.key")
	case bytes.HasPrefix(b, []byte("-----BEGIN")):
		return fmt.Errorf("it is armored: give the binary keyring (apt.pub.gpg from `webui release apt-key`, or `gpg --export KEY`)")
	case b[0]&0x80 == 0:
		return fmt.Errorf("it is not an OpenPGP keyring")
	}
	// Old- or new-format packet tag 6 (public key) first.
	tag := (b[0] >> 2) & 0x0f
	if b[0]&0x40 != 0 {
		tag = b[0] & 0x3f
	}
	if tag != 6 {
		return fmt.Errorf("it does not start with a public key packet (tag %d; a secret key is 5)", tag)
	}
	return nil
}

// packageRepo writes webui-repo's .deb for family f into o.dist.
func packageRepo(o options, f Family, keyring []byte, warn io.Writer) (string, error) {
	stage, err := os.MkdirTemp("", "mkdeb-repo-"+string(f)+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	lay := f.layout()
	vars := map[string]string{"PREFIX": lay.Prefix, "SYSCONFDIR": lay.SysConfDir, "VERSION": o.version, "STAGE": stage}
	var unknown []string
	cfgPath := filepath.Join(o.root, repoConfig)
	cfg, err := nfpm.ParseFileWithEnvMapping(cfgPath, func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		if !strings.HasPrefix(name, "NFPM_") {
			unknown = append(unknown, name)
		}
		return ""
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", cfgPath, err)
	}
	if len(unknown) > 0 {
		return "", fmt.Errorf("%s: unknown variables %s", cfgPath, strings.Join(unknown, ", "))
	}
	info, err := cfg.Get(string(f))
	if err != nil {
		return "", err
	}
	info.Deb.Arch = info.Arch
	info.MTime = time.Unix(o.epoch, 0).UTC()
	info.Target = ""
	nfpm.WithDefaults(info)

	files := map[string][]byte{
		"webui.list": []byte(sourcesLine(f, o.repoURL)),
		keyringName:  keyring,
	}
	// The project's copyright file; no binary, so no module list.
	if files["copyright"], err = copyright(o.root, ""); err != nil {
		return "", err
	}
	if f == Linux {
		if files["changelog.gz"], err = changelog(info.Name, o.version, info.Maintainer, o.epoch); err != nil {
			return "", err
		}
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(stage, name), data, 0o644); err != nil {
			return "", err
		}
	}
	if err := resolveContents(o, Target{Name: "webui-repo-" + string(f), Family: f}, info, stage, warn); err != nil {
		return "", err
	}
	pkgr, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	out := filepath.Join(o.dist, repoFileName(f, o.version))
	tmp := out + ".tmp"
	tmp = filepath.Join(o.dist, "."+filepath.Base(tmp))
	w, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if err := pkgr.Package(info, w); err != nil {
		w.Close()
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return "", err
	}
	return out, os.Rename(tmp, out)
}
