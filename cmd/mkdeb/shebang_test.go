package main

import "testing"

func TestFixShebang(t *testing.T) {
	const p = "/data/data/com.termux/files/usr"
	for _, c := range []struct{ in, want string }{
		{"#!/bin/sh\necho hi\n", "#!" + p + "/bin/sh\necho hi\n"},
		{"#!/usr/bin/env python3\nx\n", "#!" + p + "/bin/env python3\nx\n"},
		{"#! /bin/bash -e\n", "#!" + p + "/bin/bash -e\n"},
		{"#!/bin/sh", "#!" + p + "/bin/sh"},
		{"#!" + p + "/bin/sh\n", "#!" + p + "/bin/sh\n"}, // already Termux
		{"echo no shebang\n#!/bin/sh\n", "echo no shebang\n#!/bin/sh\n"},
		{"\x7fELF...", "\x7fELF..."},
		{"", ""},
	} {
		got, changed := fixShebang([]byte(c.in), p)
		if string(got) != c.want || changed != (c.in != c.want) {
			t.Errorf("fixShebang(%q) = %q, %v; want %q", c.in, got, changed, c.want)
		}
	}
}

func FuzzFixShebang(f *testing.F) {
	const p = "/data/data/com.termux/files/usr"
	f.Add([]byte("#!/bin/sh\nexit 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		once, _ := fixShebang(b, p)
		if twice, changed := fixShebang(once, p); changed || string(twice) != string(once) {
			t.Fatalf("not idempotent: %q -> %q -> %q", b, once, twice)
		}
	})
}
