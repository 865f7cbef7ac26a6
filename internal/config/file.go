// Reading and parsing the key = value config file.

package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

func (c *Config) loadFile(path string, explicit bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil
		}
		return &Error{Msg: fmt.Sprintf("config file %s: %v", path, unwrapPathErr(err))}
	}
	entries, err := Parse(path, data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Key == "password_hash" && e.Value != "" {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				c.exposedSecret = fmt.Sprintf("%s (mode %04o)", path, st.Mode().Perm())
			}
		}
		s := lookup(e.Key)
		if err := s.apply(c, e.Value); err != nil {
			return badValue(fmt.Sprintf("%s:%d", path, e.Line), *s, e.Value)
		}
		c.Source[e.Key] = "file:" + strconv.Itoa(e.Line)
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Entry is one "key = value" line of a config file.
type Entry struct {
	Line  int
	Key   string
	Value string
}

// Parse reads config file text. It checks the syntax and the keys; values are
// checked when applied.
func Parse(name string, data []byte) ([]Entry, error) {
	return ParseKeys(name, data, func(k string) bool { return lookup(k) != nil }, Keys)
}

// ParseKeys is Parse for a file of the same syntax with other keys (a hosted
// app's file): known says whether a key is allowed, keys lists them for the
// error. A syntax error is an *Error with its Line set.
func ParseKeys(name string, data []byte, known func(string) bool, keys func() []string) ([]Entry, error) {
	var out []Entry
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%s:%d: malformed line %q (expected: key = value, or a # comment)", name, n, clip(line))}
		}
		val, err := parseValue(strings.TrimSpace(v))
		if err != nil {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%s:%d: %s: %v", name, n, k, err)}
		}
		if !known(k) {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%s:%d: unknown key %q (known keys: %s)", name, n, clip(k), strings.Join(keys(), ", "))}
		}
		if prev, dup := seen[k]; dup {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%s:%d: %s is set again (first set on line %d; each key may appear once)", name, n, k, prev)}
		}
		seen[k] = n
		out = append(out, Entry{Line: n, Key: k, Value: val})
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Line: n + 1, Msg: fmt.Sprintf("%s:%d: %v", name, n+1, err)}
	}
	return out, nil
}

// parseValue strips an optional pair of double quotes, or else a trailing
// " # comment".
func parseValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		end := strings.LastIndex(v, `"`)
		if end == 0 {
			return "", errors.New("unterminated quote (allowed: a value in double quotes, or a bare value)")
		}
		rest := strings.TrimSpace(v[end+1:])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("text after the closing quote: %q (allowed: a # comment)", clip(rest))
		}
		return v[1:end], nil
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i]), nil
		}
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
