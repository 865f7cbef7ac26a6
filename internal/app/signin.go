package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/health"
	"github.com/termux-webui/webui/internal/paths"
	"github.com/termux-webui/webui/internal/proc"
	"github.com/termux-webui/webui/internal/server"
)

// URL is `webui url`: print the link that signs a browser in (the token
// link; the server redirects to a clean address at once). --open hands a
// short-lived single-use link to the browser instead, because the opener's
// command line is visible to every process.
func URL(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "url", "url [--open] [flags]")
	open := fs.Bool("open", false, "open the link in the browser (termux-open-url on Termux, xdg-open elsewhere)")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	st := paths.State(cfg.StateDir)
	tok, err := auth.LoadOrCreateToken(st.Token())
	if err != nil {
		return tokenError(cfg, err)
	}
	if !*open {
		fmt.Fprintln(env.Stdout, SignInURL(cfg.Addr, tok))
		if cfg.PublicURL != "" {
			fmt.Fprintln(env.Stdout, signInLink(cfg.PublicURL, tok))
		}
		return nil
	}
	store, err := auth.OpenStore(st, "", "")
	if err != nil {
		return tokenError(cfg, err)
	}
	ticket, err := store.NewTicket(time.Now())
	if err != nil {
		return tokenError(cfg, err)
	}
	return openBrowser(ctx, env, SignInURL(cfg.Addr, ticket))
}

// Token is `webui token`: print the access token (for scripts:
// Authorization: Bearer), or make a new one with --rotate, which signs
// every browser out.
func Token(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "token", "token [--rotate] [flags]")
	rotate := fs.Bool("rotate", false, "make a new token: the old one and every session stop working")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	st := paths.State(cfg.StateDir)
	if !*rotate {
		tok, err := auth.LoadOrCreateToken(st.Token())
		if err != nil {
			return tokenError(cfg, err)
		}
		fmt.Fprintln(env.Stdout, tok)
		return nil
	}
	tok, err := auth.RotateToken(st)
	if err != nil {
		return tokenError(cfg, err)
	}
	_ = auth.LoadRevoked(st.Revoked()).Clear() // the new key makes every old session invalid
	fmt.Fprintf(env.Stderr, "new token in %s; every session is signed out. Sign in again with:\n", st.Token())
	fmt.Fprintln(env.Stdout, SignInURL(cfg.Addr, tok))
	return nil
}

// printSignIn prints the sign-in link on a terminal; elsewhere (a boot
// script's log, a pipe) it says how to get it, so the token never lands in
// a file. A token it cannot read (another account's state dir) is a note,
// not a failure of the start.
func printSignIn(env Env, cfg *config.Config, addr string) {
	if !isTerminal(env.Stdout) {
		fmt.Fprintln(env.Stdout, "sign in: run `webui url` for the link (not printed here: this output is not a terminal)")
		return
	}
	tok, err := auth.LoadOrCreateToken(paths.State(cfg.StateDir).Token())
	if err != nil {
		fmt.Fprintf(env.Stderr, "webui ctl: cannot read the access token: %v\n", err)
		return
	}
	fmt.Fprintf(env.Stdout, "sign in: %s\n", SignInURL(addr, tok))
}

// moveExposedHash: an older `webui passwd` left the hash in a config
// file others may read; move it to the state dir (0600) rather than
// refuse to start. When that is not possible, cfg.Check says what to do.
func moveExposedHash(env Env, cfg *config.Config) {
	moved, err := cfg.MoveExposedSecret(func(h string) error {
		return auth.WritePasswordHash(paths.State(cfg.StateDir), h)
	})
	if err == nil && moved != "" {
		fmt.Fprintf(env.Stderr, "webui: moved password_hash out of %s, which others may read, into the state dir (mode 0600)\n", moved)
	}
}

func tokenError(cfg *config.Config, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return exitcode.Newf(exitcode.Failure, "%v: the state dir %s belongs to the account webui runs as; run this as that user (for example `sudo -u webui webui url`)", err, cfg.StateDir)
	}
	return exitcode.New(exitcode.Failure, err)
}

// SignInURL is the token link for a server listening on addr.
func SignInURL(addr, token string) string {
	a, err := health.ParseAddr(addr)
	if err != nil {
		a = health.Addr{Host: "127.0.0.1", Port: "8787"}
	}
	if a = a.Dialable(); a.Host == "localhost" {
		a.Host = "127.0.0.1"
	}
	return signInLink(a.URL(""), token)
}

func signInLink(base, token string) string {
	return strings.TrimRight(base, "/") + server.LoginPath + "?token=" + url.QueryEscape(token)
}

// openBrowser hands link to the platform's URL opener.
func openBrowser(ctx context.Context, env Env, link string) error {
	name := "xdg-open"
	if _, ok := paths.TermuxPrefixFrom(env.Getenv); ok {
		name = "termux-open-url"
	}
	bin, err := proc.LookPath(name)
	if err != nil {
		return exitcode.Newf(exitcode.Failure, "%s is not installed: open the link `webui url` prints by hand", name)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ws, err := proc.Run(ctx, bin, []string{bin, link}, proc.Attr{Stdout: os.Stderr, Stderr: os.Stderr})
	if err != nil {
		return exitcode.Newf(exitcode.Failure, "%s: %v", name, err)
	}
	if ws.ExitStatus() != 0 {
		return exitcode.Newf(exitcode.Failure, "%s exited with %d: open the link `webui url` prints by hand", name, ws.ExitStatus())
	}
	fmt.Fprintln(env.Stderr, "opened the sign-in link (valid for 2 minutes, once) with "+name)
	return nil
}
