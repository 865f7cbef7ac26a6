package update

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/termux-webui/webui/internal/config"
)

// The .deb cache: the .deb of the version installed by the last dpkg
// update (current.deb) and of the one before (prev.deb), each with a
// .version file. A dpkg rollback reinstalls prev.deb.
func cachedDeb(stateDir, name, version string) string {
	path := filepath.Join(Dir(stateDir), name+".deb")
	b, err := os.ReadFile(path + ".version")
	if err != nil || strings.TrimSpace(string(b)) != version {
		return ""
	}
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

func (j *Job) cachedDeb(name, version string) string { return cachedDeb(j.s.stateDir(), name, version) }

// rotateDebCache makes the .deb of the running version (if cached) the
// one a rollback reinstalls.
func (j *Job) rotateDebCache() {
	dir := Dir(j.s.stateDir())
	_ = os.Remove(filepath.Join(dir, "prev.deb.version"))
	_ = os.Remove(filepath.Join(dir, "prev.deb"))
	if j.cachedDeb("current", j.from) == "" {
		return
	}
	if os.Rename(filepath.Join(dir, "current.deb"), filepath.Join(dir, "prev.deb")) == nil {
		_ = os.Rename(filepath.Join(dir, "current.deb.version"), filepath.Join(dir, "prev.deb.version"))
	}
}

// cacheDeb keeps the installed .deb as current.deb.
func cacheDeb(stateDir, staged, version string) {
	dir := Dir(stateDir)
	tmp := filepath.Join(dir, "current.deb.tmp")
	if err := copyFile(staged, tmp); err != nil {
		return
	}
	_ = os.Remove(filepath.Join(dir, "current.deb.version"))
	if os.Rename(tmp, filepath.Join(dir, "current.deb")) != nil {
		_ = os.Remove(tmp)
		return
	}
	_ = config.WriteFileAtomic(filepath.Join(dir, "current.deb.version"), []byte(version+"\n"), 0o600)
}
