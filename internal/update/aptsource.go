package update

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// RepoPackage is the package that adds webui's apt repository to apt.
const RepoPackage = "webui-repo"

// AptSource says that apt keeps this installation current, so self-update
// stands aside: one updater, not two. (A binary swapped under dpkg's feet
// leaves dpkg's database lying, and apt would then "upgrade" it back.)
type AptSource struct {
	// Sources is the webui-repo package's sources.list.d entry.
	Sources string `json:"sources"`
	// Command is what updates webui: pkg upgrade, or apt upgrade.
	Command string `json:"command"`
}

// aptSource reports whether apt updates the binary at exe: dpkg's
// database (the one beside exe's prefix) lists exe as the webui package's
// and lists webui-repo as installed, and webui-repo's sources entry is
// still on disk (deleting it is how a user leaves the repository). It
// reads dpkg's file lists, as dpkgOwns does, without spawning dpkg. nil
// when any of that is not so.
func aptSource(exe string) *AptSource {
	admin := dpkgAdminDir(exe)
	if !dpkgOwns(admin, exe) {
		return nil
	}
	lists, _ := filepath.Glob(filepath.Join(admin, "info", RepoPackage+":*.list"))
	lists = append([]string{filepath.Join(admin, "info", RepoPackage+".list")}, lists...)
	for _, l := range lists {
		if src := sourcesIn(l); src != "" {
			return &AptSource{Sources: src, Command: upgradeCommand(exe)}
		}
	}
	return nil
}

// sourcesIn finds, in a dpkg file list, the sources.list.d entry that
// exists on disk.
func sourcesIn(list string) string {
	f, err := os.Open(list)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := filepath.Clean(strings.TrimSpace(sc.Text()))
		if filepath.Base(filepath.Dir(p)) != "sources.list.d" || !strings.HasSuffix(p, ".list") {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// upgradeCommand is how the user updates webui through apt: Termux's pkg
// outside /usr, apt (as root) on Debian.
func upgradeCommand(exe string) string {
	if prefix := filepath.Dir(filepath.Dir(exe)); prefix != "/usr" && prefix != "/" {
		return "pkg upgrade"
	}
	if os.Geteuid() == 0 {
		return "apt update && apt upgrade"
	}
	return "sudo apt update && sudo apt upgrade"
}

// message is the one line that explains why self-update stands aside.
func (a *AptSource) message() string {
	return "webui is installed from its apt repository (" + a.Sources + "): update it with `" + a.Command + "`"
}

// errApt refuses an apply on an installation apt updates.
func errApt(a *AptSource) error {
	return errorf(409, "%s; self-update is off so that dpkg keeps owning the binary", a.message())
}

// AptRefusal is the refusal an apply meets when apt updates the binary
// at exe ("" is this process's binary), nil otherwise. The CLI asks it
// before it touches a running server.
func AptRefusal(exe string) error {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil
		}
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	if a := aptSource(exe); a != nil {
		return errApt(a)
	}
	return nil
}
