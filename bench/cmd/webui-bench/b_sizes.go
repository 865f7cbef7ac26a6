package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func (bn *bench) sizes() *section {
	s := &section{key: "sizes", title: "Package and binary sizes per target"}
	dist := filepath.Join(bn.tmp, "dist")
	s.setup = []string{
		"`go run ./cmd/mkdeb --dist DIR`: the six targets, built and packaged as `make deb` does (CGO_ENABLED=0 -trimpath -ldflags \"-s -w\").",
		"Peer: the floor (`bench/floor`, bare net/http) built for linux/amd64 with the same flags.",
	}
	c := exec.Command("go", "run", "./cmd/mkdeb", "--dist", dist)
	c.Dir = bn.root
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	var errb bytes.Buffer
	c.Stderr = &errb
	out, err := c.Output()
	if err != nil {
		s.err = fmt.Errorf("mkdeb: %v\n%s", err, errb.String())
		return s
	}
	archTarget := map[string]string{"aarch64": "termux-aarch64", "arm": "termux-arm", "x86_64": "termux-x86_64",
		"i686": "termux-i686", "amd64": "linux-amd64", "arm64": "linux-arm64"}
	debs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// name_version_arch.deb; arch may hold an underscore (x86_64).
		if f := strings.SplitN(filepath.Base(l), "_", 3); len(f) == 3 && strings.HasSuffix(f[2], ".deb") {
			debs[archTarget[strings.TrimSuffix(f[2], ".deb")]] = l
		}
	}
	size := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			return -1
		}
		return st.Size()
	}
	mib := func(n int64) string {
		if n < 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	}
	floor := size(bn.b.floor)
	t := table{header: []string{"target", "binary", ".deb", ".deb file", "binary ÷ floor"}}
	for _, tg := range []string{"termux-aarch64", "termux-arm", "termux-x86_64", "termux-i686", "linux-amd64", "linux-arm64"} {
		b := size(filepath.Join(dist, "webui-"+tg))
		r := "–"
		if tg == "linux-amd64" || tg == "termux-x86_64" {
			r = ratio(float64(b), float64(floor))
		}
		t.add(tg, mib(b), mib(size(debs[tg])), filepath.Base(debs[tg]), r)
	}
	t.add("floor (linux/amd64)", mib(floor), "–", "–", "1.00×")
	s.tables = append(s.tables, t)
	a := size(filepath.Join(dist, "webui-termux-aarch64"))
	d := size(debs["termux-aarch64"])
	s.info("sizes (termux-aarch64)", fmt.Sprintf("binary %s, .deb %s; the floor is %s", mib(a), mib(d), mib(floor)))
	return s
}
