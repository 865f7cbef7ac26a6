package diag

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// lifetimeFiles groups the files of each lifetime (ID.jsonl, ID.crash,
// ID.strace, ...) by ID, oldest first: IDs start with the UTC start time.
func lifetimeFiles(dir string) ([]string, map[string][]os.FileInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	groups := map[string][]os.FileInfo{}
	for _, e := range ents {
		name := e.Name()
		i := strings.IndexByte(name, '.')
		// IDs contain one '.' (fractional seconds): the suffix is after the second.
		if j := strings.IndexByte(name[i+1:], '.'); i >= 0 && j >= 0 {
			i = i + 1 + j
		} else {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		id := name[:i]
		groups[id] = append(groups[id], info)
	}
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, groups, nil
}

// Prune keeps the newest keep lifetimes and, within those, drops the oldest
// until all records fit in maxBytes. The lifetime named current is never
// removed.
func Prune(dir string, keep int, maxBytes int64, current string) error {
	ids, groups, err := lifetimeFiles(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var total int64
	for _, id := range ids {
		for _, fi := range groups[id] {
			total += fi.Size()
		}
	}
	count := len(ids)
	var errs []error
	for _, id := range ids {
		if count <= keep && (maxBytes <= 0 || total <= maxBytes) {
			break
		}
		if id == current {
			continue
		}
		for _, fi := range groups[id] {
			if err := os.Remove(filepath.Join(dir, fi.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			total -= fi.Size()
		}
		count--
	}
	return errors.Join(errs...)
}
