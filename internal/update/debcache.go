package update

import (
	"os"
	"strings"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/paths"
)

// The .deb cache: the .deb of the version installed by the last dpkg
// update and of the one before, each with a file naming its version. A
// dpkg rollback reinstalls the previous one.

// cachedDeb is deb if it is cached for version, else "".
func cachedDeb(deb, version string) string {
	b, err := os.ReadFile(paths.DebVersion(deb))
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
	_ = os.Remove(paths.DebVersion(u.PrevDeb()))
	_ = os.Remove(u.PrevDeb())
	if cachedDeb(u.CurrentDeb(), j.from) == "" {
		return
	}
	if os.Rename(u.CurrentDeb(), u.PrevDeb()) == nil {
		_ = os.Rename(paths.DebVersion(u.CurrentDeb()), paths.DebVersion(u.PrevDeb()))
	}
}

// cacheDeb keeps the installed .deb as current.deb.
func cacheDeb(stateDir, staged, version string) {
	cur := paths.State(stateDir).Updates().CurrentDeb()
	tmp := cur + ".tmp"
	if err := copyFile(staged, tmp); err != nil {
		return
	}
	_ = os.Remove(paths.DebVersion(cur))
	if os.Rename(tmp, cur) != nil {
		_ = os.Remove(tmp)
		return
	}
	_ = config.WriteFileAtomic(paths.DebVersion(cur), []byte(version+"\n"), 0o600)
}
