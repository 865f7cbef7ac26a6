package app

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/update"
)

const releaseUsageText = `Usage: webui release COMMAND [flags]

Publish a release feed (see "Publishing a release" in README):

  keygen    --out DIR: make a signing key pair, DIR/release.key (secret, mode
            0600) and DIR/release.pub (trust it with update_keys)
  manifest  --dist DIR --version V [--notes FILE] [--channel C]: print the
            manifest.json of the binaries and .debs in DIR
  sign      --key FILE FILE...: write FILE.sig, the base64 ed25519 signature
            of FILE's exact bytes (manifest.json, or an artifact for
            ` + "`webui update apply --from`" + `)

Publish the apt repository (see "Publishing the apt repository" in README):

  apt-key   --out DIR: make an OpenPGP signing key, DIR/apt.key (secret,
            mode 0600) and DIR/apt.pub.gpg (the keyring for signed-by=)
  repo      --dist DIR --key FILE --out REPO [--suite S] [--component C]
            [--keep N] [--valid-for D]: add the .debs in DIR to the apt
            repository REPO and sign its indexes
`

// Release is `webui release`: the publisher's tools.
func Release(ctx context.Context, env Env, args []string) error {
	noCtx := func(f func(Env, []string) error) func(context.Context, Env, []string) error {
		return func(_ context.Context, env Env, args []string) error { return f(env, args) }
	}
	return dispatch(ctx, env, "release", releaseUsageText, args, []subcommand{
		{"keygen", noCtx(releaseKeygen)}, {"manifest", noCtx(releaseManifest)}, {"sign", noCtx(releaseSign)},
		{"apt-key", noCtx(releaseAptKey)}, {"repo", noCtx(releaseRepo)},
	})
}

func releaseKeygen(env Env, args []string) error {
	fs := newFlags(env, "release keygen", "release keygen --out DIR")
	out := fs.String("out", "", "directory for release.key and release.pub")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return exitcode.Newf(exitcode.Usage, "--out DIR is required")
	}
	keyPath, pubPath := filepath.Join(*out, "release.key"), filepath.Join(*out, "release.pub")
	if _, err := os.Stat(keyPath); err == nil {
		return exitcode.Newf(exitcode.Usage, "%s already exists: refusing to overwrite a signing key (move it away first)", keyPath)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	pub, priv, err := update.GenerateKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(priv + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(keyPath)
		return fmt.Errorf("write %s: %w", keyPath, err)
	}
	if err := config.WriteFileAtomic(pubPath, []byte(pub+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (secret: keep it off servers and out of the repository)\n", keyPath)
	fmt.Fprintf(env.Stdout, "wrote %s: %s\n", pubPath, pub)
	fmt.Fprintln(env.Stdout, "trust it with update_keys = "+pub)
	fmt.Fprintln(env.Stdout, "or build it in: -ldflags \"-X github.com/termux-webui/webui/internal/update.BuiltinKeys="+pub+"\"")
	return nil
}

func releaseManifest(env Env, args []string) error {
	fs := newFlags(env, "release manifest", "release manifest --dist DIR --version V [--notes FILE] [--channel C]")
	dist := fs.String("dist", "dist", "the directory with the release's binaries and .debs")
	ver := fs.String("version", "", "the release's version (as built into its binaries)")
	notesFile := fs.String("notes", "", "a markdown file with the release notes")
	channel := fs.String("channel", "stable", "the release channel")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *ver == "" {
		return exitcode.Newf(exitcode.Usage, "--version V is required")
	}
	notes := ""
	if *notesFile != "" {
		b, err := os.ReadFile(*notesFile)
		if err != nil {
			return exitcode.Newf(exitcode.Usage, "--notes: %v", err)
		}
		notes = string(b)
	}
	// SOURCE_DATE_EPOCH makes the manifest reproducible, like the .debs.
	published := time.Now()
	if s := env.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			published = time.Unix(n, 0)
		}
	}
	m, skipped, err := update.BuildManifest(*dist, *ver, *channel, notes, published)
	for _, s := range skipped {
		fmt.Fprintf(env.Stderr, "webui release manifest: skipped %s\n", s)
	}
	if err != nil {
		return exitcode.New(exitcode.Failure, err)
	}
	b, err := update.MarshalManifest(m)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(b)
	return err
}

func releaseSign(env Env, args []string) error {
	fs := newFlags(env, "release sign", "release sign --key FILE FILE...")
	keyFile := fs.String("key", "", "the private key file (from `webui release keygen`)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return exitcode.New(exitcode.Usage, err)
	}
	if *keyFile == "" || fs.NArg() == 0 {
		return exitcode.Newf(exitcode.Usage, "usage: webui release sign --key FILE FILE...")
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return exitcode.Newf(exitcode.Usage, "--key: %v", err)
	}
	key, err := update.ParsePrivateKey(string(b))
	if err != nil {
		return exitcode.Newf(exitcode.Usage, "--key %s: %v", *keyFile, err)
	}
	pub := key.Public().(ed25519.PublicKey)
	for _, file := range fs.Args() {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		sig := update.Sign(key, data)
		if _, err := update.Verify([]ed25519.PublicKey{pub}, data, sig); err != nil {
			return fmt.Errorf("sign %s: %w", file, err)
		}
		if err := config.WriteFileAtomic(file+".sig", sig, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s.sig (key %s)\n", file, base64.StdEncoding.EncodeToString(pub))
	}
	return nil
}
