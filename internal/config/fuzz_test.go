package config

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"addr = 127.0.0.1:1\n", "# c\n\ufeffx = \"a # b\"\n", "k=v\r\n;c\n", "a = \"unterminated\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse("f", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if lookup(e.Key) == nil || seen[e.Key] {
				t.Fatalf("Parse returned key %q (seen %v)", e.Key, seen[e.Key])
			}
			seen[e.Key] = true
		}
	})
}

// FuzzSetKey: whatever the old file and the value, a SetKey that succeeds
// leaves a file that loads to the old settings with exactly this one
// changed; one that fails leaves the file as it was.
func FuzzSetKey(f *testing.F) {
	f.Add([]byte("# mine\nlog_level = debug\n"), uint8(0), "127.0.0.1:9")
	f.Add([]byte("\ufeffaddr = 1.2.3.4:5\n"), uint8(0), "[x\nupdate_url = http://e/\n; ]:80")
	f.Add([]byte("update_channel = \"a # b\"\n"), uint8(1), "x\" # y")
	f.Add([]byte("a"), uint8(2), "on")
	keys := Keys()
	f.Fuzz(func(t *testing.T, old []byte, k uint8, value string) {
		key := keys[int(k)%len(keys)]
		path := filepath.Join(t.TempDir(), "webui.conf")
		if err := os.WriteFile(path, old, 0o600); err != nil {
			t.Fatal(err)
		}
		before, perr := Parse(path, old)
		err := SetKey(path, key, value)
		after, _ := os.ReadFile(path)
		if err != nil {
			if string(after) != string(old) {
				t.Fatalf("a failed SetKey changed the file: %q -> %q", old, after)
			}
			return
		}
		if perr != nil {
			t.Fatalf("SetKey succeeded on a file that does not parse: %q", old)
		}
		entries, err := Parse(path, after)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%q", err, after)
		}
		want := map[string]string{key: value}
		for _, e := range before {
			if e.Key != key {
				want[e.Key] = e.Value
			}
		}
		if len(entries) != len(want) {
			t.Fatalf("written file has %d keys, want %d: %q", len(entries), len(want), after)
		}
		for _, e := range entries {
			if v, ok := want[e.Key]; !ok || v != e.Value {
				t.Fatalf("key %s = %q, want %q (%v): %q", e.Key, e.Value, v, ok, after)
			}
		}
	})
}
