package debfile

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	in := "Package: webui\nVersion: 1.2.3\nDescription: short\n line two\n .\n line four\n\n\nPackage: webui-repo\nArchitecture: all\n"
	ps, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d paragraphs", len(ps))
	}
	if got := ps[0].Get("description"); got != "short\n line two\n .\n line four" {
		t.Errorf("Description %q", got)
	}
	if ps[1].Get("Architecture") != "all" || ps[1].Get("Version") != "" {
		t.Errorf("second paragraph %v", ps[1])
	}
	if got := string(ps[0].Bytes()); got != "Package: webui\nVersion: 1.2.3\nDescription: short\n line two\n .\n line four\n" {
		t.Errorf("Bytes %q", got)
	}
	p := ps[0].Without("Description").Set("Size", "12").Set("version", "2")
	if got := string(p.Bytes()); got != "Package: webui\nVersion: 2\nSize: 12\n" {
		t.Errorf("Set/Without %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" lead\n":                "line 1: a continuation line",
		"Package: a\nno colon\n": "line 2:",
		"Package: a\npackage: b": "line 2: field package repeats",
		"-X: 1\n":                "starts with",
		": v\n":                  "no name",
		"Pack age: 1\n":          "outside printable ASCII",
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if _, err := ParseOne([]byte("A: 1\n\nB: 2\n")); err == nil {
		t.Error("ParseOne took two paragraphs")
	}
}

// FuzzParse: whatever Parse accepts, writing it back and parsing again
// gives the same paragraphs, and never a field name that would not parse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("Package: webui\nVersion: 1.2.3\nDescription: x\n y\n .\n z\n\nPackage: b\n"))
	f.Add([]byte("A:\n b\n\t c\n# comment\nC: d  \r\n"))
	f.Add([]byte("\n\n\nX: y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		for i, p := range ps {
			if len(p) == 0 {
				t.Fatal("empty paragraph")
			}
			if i > 0 {
				buf.WriteString("\n")
			}
			buf.Write(p.Bytes())
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("reparse of %q: %v", buf.Bytes(), err)
		}
		if !reflect.DeepEqual(ps, again) {
			t.Fatalf("round trip changed\n%#v\n%#v", ps, again)
		}
	})
}
