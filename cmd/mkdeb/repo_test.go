package main

import (
	"strings"
	"testing"
)

func TestCheckKeyring(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   []byte
		want string // "" accepts
	}{
		"binary public key (new format)": {[]byte{0xc6, 0x33, 0x04}, ""},
		"binary public key (old format)": {[]byte{0x99, 0x01, 0x0d, 0x04}, ""},
		"secret key packet":              {[]byte{0xc5, 0x33, 0x04}, "a secret key is 5"},
		"armored secret":                 {[]byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n"), "SECRET"},
		"armored public":                 {[]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"), "armored"},
		"text":                           {[]byte("hello"), "not an OpenPGP keyring"},
		"empty":                          {nil, "empty"},
	} {
		err := checkKeyring(tc.in)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestSourcesLine(t *testing.T) {
	t.Parallel()
	if got := sourcesLine(Termux, "https://example.org/apt/"); !strings.Contains(got, "\ndeb [signed-by="+TermuxPrefix+"/share/keyrings/webui-archive-keyring.gpg] https://example.org/apt stable main\n") {
		t.Errorf("termux: %q", got)
	}
	if got := sourcesLine(Linux, defaultRepoURL); !strings.Contains(got, "\ndeb [signed-by=/usr/share/keyrings/webui-archive-keyring.gpg] "+defaultRepoURL+" stable main\n") {
		t.Errorf("linux: %q", got)
	}
	if repoFileName(Termux, "1.0") == repoFileName(Linux, "1.0") {
		t.Error("the two families' webui-repo share a file name")
	}
}
