package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/termux-webui/webui/internal/aptrepo"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
)

// The apt key's files in --out.
const (
	aptKeyFile = "apt.key"
	aptPubFile = "apt.pub.gpg"
)

func releaseAptKey(env Env, args []string) error {
	fs := newFlags(env, "release apt-key", "release apt-key --out DIR [--email E]")
	out := fs.String("out", "", "directory for apt.key and apt.pub.gpg")
	email := fs.String("email", "termux-webui@users.noreply.github.com", "the key's e-mail address")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return exitcode.Newf(exitcode.Usage, "--out DIR is required")
	}
	keyPath, pubPath := filepath.Join(*out, aptKeyFile), filepath.Join(*out, aptPubFile)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return exitcode.Newf(exitcode.Usage, "%s already exists: refusing to overwrite a signing key (move it away first)", p)
		}
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	key, err := aptrepo.GenerateKey(aptrepo.KeyUID, *email, time.Now())
	if err != nil {
		return err
	}
	priv, err := key.ArmoredPrivate()
	if err != nil {
		return err
	}
	pub, err := key.PublicKeyring()
	if err != nil {
		return err
	}
	if err := writeNewSecret(keyPath, priv); err != nil {
		return err
	}
	if err := config.WriteFileAtomic(pubPath, pub, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (secret: keep it off servers and out of the repository)\n", keyPath)
	fmt.Fprintf(env.Stdout, "wrote %s: key %s\n", pubPath, key.Fingerprint())
	fmt.Fprintf(env.Stdout, "ship it in webui-repo with: make deb APT_PUBKEY=%s\n", pubPath)
	return nil
}

// writeNewSecret creates path (0600), failing if it exists.
func writeNewSecret(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func releaseRepo(env Env, args []string) error {
	fs := newFlags(env, "release repo", "release repo --dist DIR --key FILE --out REPO [--suite S] [--component C] [--keep N] [--valid-for D]")
	dist := fs.String("dist", "dist", "the directory with the new .debs")
	keyFile := fs.String("key", "", "the secret key (apt.key from `webui release apt-key`)")
	out := fs.String("out", "", "the repository root (created, or updated in place)")
	suite := fs.String("suite", "stable", "the suite (dists/SUITE)")
	component := fs.String("component", "main", "the component the new .debs go to")
	keep := fs.Int("keep", 5, "versions kept per package and architecture (0: all)")
	validFor := fs.Duration("valid-for", 0, "write Valid-Until = Date + this (e.g. 720h); apt refuses the indexes after it. 0: none")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *out == "" {
		return exitcode.Newf(exitcode.Usage, "--key FILE and --out REPO are required")
	}
	if *keep < 0 || *validFor < 0 {
		return exitcode.Newf(exitcode.Usage, "--keep and --valid-for must not be negative")
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return exitcode.Newf(exitcode.Usage, "--key: %v", err)
	}
	key, err := aptrepo.ReadKey(b)
	if err != nil {
		return exitcode.Newf(exitcode.Usage, "--key %s: %v", *keyFile, err)
	}
	// SOURCE_DATE_EPOCH makes the Release file reproducible, like the .debs.
	date := time.Now()
	if s := env.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return exitcode.Newf(exitcode.Usage, "SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		date = time.Unix(n, 0)
	}
	res, err := aptrepo.Build(aptrepo.Options{Dist: *dist, Out: *out, Suite: *suite, Component: *component,
		Keep: *keep, Key: key, Date: date, ValidFor: *validFor})
	if res != nil {
		for _, p := range res.Added {
			fmt.Fprintf(env.Stdout, "added %s\n", p)
		}
		for _, p := range res.Pruned {
			fmt.Fprintf(env.Stdout, "pruned %s\n", p)
		}
	}
	if err != nil {
		return exitcode.New(exitcode.Failure, err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %d packages indexed (%d new, %d already there), signed by %s\n",
		filepath.Join(*out, res.Suite), res.Indexed, len(res.Added), len(res.Present), key.Fingerprint())
	return nil
}
