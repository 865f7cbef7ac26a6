// Command mkdeb builds webui's .deb packages. It cross-compiles the webui
// binary for every target, then packages each one from nfpm.yaml with nfpm
// used as a library, so `make deb` needs nothing but Go.
//
// Usage:
//
//	go run ./cmd/mkdeb [--dist DIR] [--version V] [--only T1,T2] [--skip-build]
//	                   [--apt-pubkey FILE [--repo-url URL]]
//
// The version comes from --version, else $VERSION, else `git describe`. File
// times come from $SOURCE_DATE_EPOCH, else the commit time, so the same commit
// builds byte-identical packages. Binaries land in DIR as webui-<target>, the
// packages next to them under their Debian names; their paths are printed on
// stdout, one a line.
//
// With --apt-pubkey (the binary keyring `webui release apt-key` writes),
// mkdeb also builds webui-repo for each family built (packaging/repo): the
// sources entry for the apt repository at --repo-url, and that keyring.
// Without it, webui-repo is skipped with a note.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
}

// options are the resolved command line.
type options struct {
	dist      string   // output directory, absolute
	config    string   // nfpm.yaml, absolute
	root      string   // source tree: relative paths in config are relative to it
	version   string   // Debian version, also embedded in the binary
	epoch     int64    // SOURCE_DATE_EPOCH
	targets   []Target // what to build
	skipBuild bool
	repoURL   string // the apt repository webui-repo points at
	aptPubkey string // the keyring webui-repo ships ("" skips webui-repo)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dist := fs.String("dist", "dist", "output `directory` for binaries and packages")
	version := fs.String("version", "", "package `version` (default: $VERSION, else from git describe)")
	only := fs.String("only", "", "comma separated `targets` to build (default: all of "+strings.Join(targetNames(), ",")+")")
	skipBuild := fs.Bool("skip-build", false, "package the binaries already in --dist instead of building them")
	repoURL := fs.String("repo-url", defaultRepoURL, "the apt repository `URL` webui-repo adds")
	aptPubkey := fs.String("apt-pubkey", "", "the repository's binary OpenPGP public key `file` (apt.pub.gpg) for webui-repo; without it webui-repo is not built")
	config := fs.String("config", "nfpm.yaml", "nfpm config `file`; relative paths in it are relative to its directory")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mkdeb [flags]\n\nBuilds the webui binaries and .deb packages.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}

	var o options
	var err error
	if o.config, err = filepath.Abs(*config); err != nil {
		return err
	}
	o.root = filepath.Dir(o.config)
	if o.dist, err = filepath.Abs(*dist); err != nil {
		return err
	}
	if o.targets, err = selectTargets(*only); err != nil {
		return err
	}
	o.skipBuild = *skipBuild
	o.repoURL, o.aptPubkey = *repoURL, *aptPubkey
	if !strings.HasPrefix(o.repoURL, "https://") && !strings.HasPrefix(o.repoURL, "http://") {
		return fmt.Errorf("--repo-url %q: want an http or https URL", o.repoURL)
	}
	var keyring []byte
	if o.aptPubkey != "" {
		if keyring, err = os.ReadFile(o.aptPubkey); err != nil {
			return fmt.Errorf("--apt-pubkey: %w", err)
		}
		if err := checkKeyring(keyring); err != nil {
			return fmt.Errorf("--apt-pubkey %s: %w", o.aptPubkey, err)
		}
	}
	git := gitIn(ctx, o.root)
	if o.version, err = resolveVersion(*version, getenv, git); err != nil {
		return err
	}
	var epochSource string
	if o.epoch, epochSource, err = sourceDateEpoch(getenv, git); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mkdeb: version %s, SOURCE_DATE_EPOCH=%d (%s)\n", o.version, o.epoch, epochSource)

	if err := os.MkdirAll(o.dist, 0o755); err != nil {
		return err
	}
	for _, t := range o.targets {
		bin := filepath.Join(o.dist, "webui-"+t.Name)
		if !o.skipBuild {
			fmt.Fprintf(stderr, "mkdeb: building %s\n", t.Name)
			if err := buildBinary(ctx, o.root, bin, t, o.version, getenv, stderr); err != nil {
				return fmt.Errorf("build %s: %w", t.Name, err)
			}
		} else if data, err := os.ReadFile(bin); err == nil && !bytes.Contains(data, []byte(o.version)) {
			fmt.Fprintf(stderr, "mkdeb: warning: %s does not contain the version %s: it was built for another version\n", o.rel(bin), o.version)
		}
		deb, err := packageTarget(o, t, bin, stderr)
		if err != nil {
			return fmt.Errorf("package %s: %w", t.Name, err)
		}
		fmt.Fprintln(stdout, deb)
	}
	if keyring == nil {
		fmt.Fprintln(stderr, "mkdeb: webui-repo not built: no repository key (make deb APT_PUBKEY=apt.pub.gpg; `webui release apt-key` makes one)")
		return nil
	}
	done := map[Family]bool{}
	for _, t := range o.targets {
		if done[t.Family] {
			continue
		}
		done[t.Family] = true
		deb, err := packageRepo(o, t.Family, keyring, stderr)
		if err != nil {
			return fmt.Errorf("package webui-repo (%s): %w", t.Family, err)
		}
		fmt.Fprintln(stdout, deb)
	}
	return nil
}
