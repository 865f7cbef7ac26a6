package update

import (
	"os"
	"strings"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
)

// The .deb cache: the .deb of the version installed by the last dpkg
// update (current.deb) and of the one before (prev.deb), each with a
// .version file. A dpkg rollback reinstalls prev.deb.

// cachedDeb is deb if it is cached for version, else "".
func cachedDeb(deb, version string) string {
	b, err := os.ReadFile(deb + ".version")
	if err != nil || strings.TrimSpace(string(b)) != version {
		return ""
	}
	if _, err := os.Stat(deb); err != nil {
		return ""
	}
	return deb
}

// rotateDebCache makes the .deb of the running version (if cached) the
// one a rollback reinstalls.
func (j *Job) rotateDebCache() {
	u := paths.State(j.s.stateDir()).Updates()
	_ = os.Remove(u.PrevDeb() + ".version")
	_ = os.Remove(u.PrevDeb())
	if cachedDeb(u.CurrentDeb(), j.from) == "" {
		return
	}
	if os.Rename(u.CurrentDeb(), u.PrevDeb()) == nil {
		_ = os.Rename(u.CurrentDeb()+".version", u.PrevDeb()+".version")
	}
}

// cacheDeb keeps the installed .deb as current.deb.
func cacheDeb(stateDir, staged, version string) {
	cur := paths.State(stateDir).Updates().CurrentDeb()
	tmp := cur + ".tmp"
	if err := copyFile(staged, tmp); err != nil {
		return
	}
	_ = os.Remove(cur + ".version")
	if os.Rename(tmp, cur) != nil {
		_ = os.Remove(tmp)
		return
	}
	_ = config.WriteFileAtomic(cur+".version", []byte(version+"\n"), 0o600)
}
