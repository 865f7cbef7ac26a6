package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/termux-webui/webui/internal/auth"
	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
	"github.com/termux-webui/webui/internal/paths"
)

// Passwd is `webui passwd`: set the login password. It reads the password
// twice from a terminal (without echo), or once from a pipe. The hash goes
// to the state dir (0600), never to the config file, which the service
// account may need to read from a 0644 /etc/webui/webui.conf. The running
// server picks it up at once.
func Passwd(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "passwd", "passwd [--config FILE]   (reads the new password from stdin)")
	cfg, err := withSettings(env, fs).load(args)
	if err != nil {
		return err
	}
	pw, err := readPassword(env)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if len(pw) < auth.MinPasswordLen {
		return exitcode.Newf(exitcode.Usage, "password too short: use at least %d characters", auth.MinPasswordLen)
	}
	if cfg.Source["password_hash"] == "env" {
		return exitcode.Newf(exitcode.Usage, "WEBUI_PASSWORD_HASH is set and wins over a saved password: unset it first")
	}
	hash, err := auth.Hash(pw)
	if err != nil {
		return err
	}
	st := paths.State(cfg.StateDir)
	if err := auth.WritePasswordHash(st, hash); err != nil {
		return tokenError(cfg, err)
	}
	_ = auth.LoadRevoked(st.Revoked()).Clear() // the new session key ends every session
	// An old hash in the config file must not linger there, readable.
	if err := config.RemoveKey(cfg.ConfigFile, "password_hash"); err != nil {
		fmt.Fprintf(env.Stderr, "webui passwd: the old password_hash stays in %s: %v\n", cfg.ConfigFile, err)
	}
	fmt.Fprintf(env.Stdout, "password set in %s (mode 0600); every session is signed out\n", st.Password())
	return nil
}

func readPassword(env Env) (string, error) {
	if f, t, ok := terminal(env.Stdin); ok {
		return readTerminal(env, f, *t)
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func readTerminal(env Env, f *os.File, saved unix.Termios) (string, error) {
	fd := int(f.Fd())
	noecho := saved
	noecho.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noecho); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, &saved)
	r := bufio.NewReader(f)
	ask := func(prompt string) (string, error) {
		fmt.Fprint(env.Stderr, prompt)
		s, err := r.ReadString('\n')
		fmt.Fprintln(env.Stderr)
		return strings.TrimRight(s, "\r\n"), err
	}
	a, err := ask("New password: ")
	if err != nil {
		return "", err
	}
	b, err := ask("Again: ")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", errors.New("the passwords differ; nothing was changed")
	}
	return a, nil
}
