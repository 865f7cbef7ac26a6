package debfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Field is one field of a control paragraph. Value keeps continuation
// lines as they are, joined by "\n" (each still starting with its space or
// tab), so a paragraph is written back byte for byte.
type Field struct {
	Name, Value string
}

// Paragraph is a deb822 paragraph (a control file, or a stanza of a
// Packages index), its fields in order.
type Paragraph []Field

// Get returns the value of the field name (case-insensitive), trimmed.
func (p Paragraph) Get(name string) string {
	for _, f := range p {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

// Set replaces the field name, or appends it.
func (p Paragraph) Set(name, value string) Paragraph {
	for i, f := range p {
		if strings.EqualFold(f.Name, name) {
			p[i].Value = value
			return p
		}
	}
	return append(p, Field{Name: name, Value: value})
}

// Without returns p without the fields named.
func (p Paragraph) Without(names ...string) Paragraph {
	var out Paragraph
outer:
	for _, f := range p {
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				continue outer
			}
		}
		out = append(out, f)
	}
	return out
}

// Bytes is the paragraph as deb822 text, each line ending in "\n".
func (p Paragraph) Bytes() []byte {
	var b bytes.Buffer
	for _, f := range p {
		b.WriteString(f.Name)
		b.WriteString(":")
		if f.Value != "" && !strings.HasPrefix(f.Value, "\n") {
			b.WriteString(" ")
		}
		b.WriteString(f.Value)
		b.WriteString("\n")
	}
	return b.Bytes()
}

// Parse reads deb822 paragraphs separated by blank lines. Field names are
// printable ASCII without ':' and not starting with '#' or '-'; a field may
// not repeat within a paragraph; continuation lines start with a space or
// a tab. Lines starting with '#' are comments (Packages files have none, but
// deb822 allows them). Errors name the line.
func Parse(data []byte) ([]Paragraph, error) {
	var out []Paragraph
	var cur Paragraph
	seen := map[string]bool{}
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, seen = nil, map[string]bool{}
	}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		// Trailing white space (and a CR) is insignificant in deb822.
		line = strings.TrimRight(line, " \t\r")
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) == 0 {
				return nil, fmt.Errorf("line %d: a continuation line with no field before it", n)
			}
			cur[len(cur)-1].Value += "\n" + line
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: %q is neither a field (Name: value) nor a continuation", n, clip(line))
			}
			if err := checkName(name); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			key := strings.ToLower(name)
			if seen[key] {
				return nil, fmt.Errorf("line %d: field %s repeats in one paragraph", n, name)
			}
			seen[key] = true
			cur = append(cur, Field{Name: name, Value: strings.TrimLeft(value, " \t\r")})
		}
	}
	flush()
	return out, nil
}

// ParseOne reads a file that must hold exactly one paragraph (a control
// file).
func ParseOne(data []byte) (Paragraph, error) {
	ps, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("%d paragraphs, want one", len(ps))
	}
	return ps[0], nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("a field with no name")
	}
	if name[0] == '-' || name[0] == '#' {
		return fmt.Errorf("field name %q starts with %q", clip(name), name[0])
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("field name %q has a character outside printable ASCII", clip(name))
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
