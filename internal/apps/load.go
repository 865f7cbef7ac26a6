package apps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// maxFileBytes bounds an app file: they are a few lines.
const maxFileBytes = 64 << 10

// LoadDir reads every *.conf in dir (apps.d). A broken file gives a
// FileError and the others still load; two apps whose routes overlap are
// both refused, each error naming the other file. A missing dir is no apps.
// Files that do not end in .conf (editor backups, .conf.dpkg-new) are
// skipped, as a package manager's leftovers must not become apps.
func LoadDir(dir string) ([]Spec, []*FileError) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, []*FileError{{File: dir, Msg: err.Error()}}
	}
	if st, err := os.Stat(dir); err == nil {
		if msg := unsafeOwner(st); msg != "" {
			return nil, []*FileError{{File: dir, Msg: msg + "; no app in it is loaded"}}
		}
	}
	var specs []Spec
	var errs []*FileError
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".conf") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		s, ferr := LoadFile(file)
		if ferr != nil {
			errs = append(errs, ferr)
			continue
		}
		specs = append(specs, s)
	}
	return checkRoutes(specs, errs)
}

// LoadFile reads and parses one app file.
func LoadFile(file string) (Spec, *FileError) {
	f, err := os.Open(file)
	if err != nil {
		return Spec{}, &FileError{File: file, Msg: unwrapPath(err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Spec{}, &FileError{File: file, Msg: unwrapPath(err)}
	}
	if !st.Mode().IsRegular() || st.Size() > maxFileBytes {
		return Spec{}, &FileError{File: file, Msg: fmt.Sprintf("not a regular file of at most %d bytes", maxFileBytes)}
	}
	if msg := unsafeOwner(st); msg != "" {
		return Spec{}, &FileError{File: file, Msg: msg}
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return Spec{}, &FileError{File: file, Msg: unwrapPath(err)}
	}
	return Parse(file, data)
}

// unsafeOwner refuses an app file or dir that someone other than us (or
// root) could write: its command runs as webui's user, so whoever may write
// it may run anything as that user.
func unsafeOwner(st os.FileInfo) string {
	if st.Mode().Perm()&0o022 != 0 && !(st.IsDir() && st.Mode()&os.ModeSticky != 0 && st.Mode().Perm()&0o002 == 0) {
		return fmt.Sprintf("writable by group or others (mode %04o): its commands run as webui's user (fix: chmod go-w)", st.Mode().Perm())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return fmt.Sprintf("owned by uid %d, not by webui's user or root: its commands would run as webui's user", sys.Uid)
	}
	return ""
}

func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkRoutes refuses every app whose route overlaps another's: which of
// the two the user meant cannot be guessed, and serving either would hide
// the other without a word.
func checkRoutes(specs []Spec, errs []*FileError) ([]Spec, []*FileError) {
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	bad := map[int]string{}
	for i := range specs {
		for j := range specs {
			if i != j && RoutesOverlap(specs[i].Route, specs[j].Route) {
				if _, dup := bad[i]; !dup {
					bad[i] = fmt.Sprintf("route %s overlaps route %s of %s (each app needs its own prefix)", specs[i].Route, specs[j].Route, specs[j].File)
				}
			}
		}
	}
	var ok []Spec
	for i, s := range specs {
		if msg, isBad := bad[i]; isBad {
			errs = append(errs, &FileError{File: s.File, Line: routeLine(s.File), Msg: msg})
			continue
		}
		ok = append(ok, s)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].File < errs[j].File })
	return ok, errs
}

// routeLine finds the route line of a file for the error; 0 if the route
// is the default one.
func routeLine(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "route" {
			return i + 1
		}
	}
	return 0
}
