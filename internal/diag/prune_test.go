package diag

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestPrune(t *testing.T) {
	t.Parallel()
	// Ten lifetimes, oldest first, each with a record, a crash file and a
	// restart strace log; 1000 bytes a lifetime.
	seed := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		var ids []string
		for i := 0; i < 10; i++ {
			id := idOf(at(time.Duration(i)*time.Minute), 1000+i)
			for suffix, size := range map[string]int{".jsonl": 600, ".crash": 300, ".restart-1.strace": 100} {
				if err := os.WriteFile(filepath.Join(dir, id+suffix), bytes.Repeat([]byte("x"), size), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		for _, other := range []string{"README", "notes.txt"} {
			if err := os.WriteFile(filepath.Join(dir, other), []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Mkdir(filepath.Join(dir, idOf(at(-time.Hour), 1)+".jsonl"), 0o700); err != nil {
			t.Fatal(err)
		}
		return dir, ids
	}
	cases := []struct {
		name     string
		keep     int
		maxBytes int64
		current  int // index into ids
		kept     []int
	}{
		{"keep newest", 3, 0, 9, []int{7, 8, 9}},
		{"current is never removed", 3, 0, 0, []int{0, 8, 9}},
		{"byte cap", 50, 3500, 9, []int{7, 8, 9}},
		{"byte cap, exact fit", 50, 3000, 9, []int{7, 8, 9}},
		{"byte cap smaller than the current lifetime", 50, 10, 5, []int{5}},
		{"both caps: the tighter wins", 5, 2000, 9, []int{8, 9}},
		{"nothing to do", 10, 10000, 9, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, ids := seed(t)
			if err := Prune(dir, c.keep, c.maxBytes, ids[c.current]); err != nil {
				t.Fatal(err)
			}
			want := []string{"README", idOf(at(-time.Hour), 1) + ".jsonl", "notes.txt"}
			for _, i := range c.kept {
				want = append(want, ids[i]+".crash", ids[i]+".jsonl", ids[i]+".restart-1.strace")
			}
			sort.Strings(want)
			if got := files(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("after Prune:\n got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("missing dir", func(t *testing.T) {
		t.Parallel()
		if err := Prune(filepath.Join(t.TempDir(), "none"), 1, 1, "x"); err != nil {
			t.Errorf("Prune of a missing dir: %v", err)
		}
	})
}
