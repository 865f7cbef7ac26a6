// Package app wires webui's subcommands: it turns arguments and environment
// into a Config, a platform report and diagnostics, and hands them to the
// packages that do the work. cmd/webui only dispatches to it.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/termux-webui/webui/internal/config"
	"github.com/termux-webui/webui/internal/exitcode"
)

// Env is what a command gets from the process: injected so tests can run
// commands in-process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env Env, args []string) error
}

func (e Env) loader() config.Loader {
	return config.Loader{Getenv: e.Getenv, Euid: os.Geteuid()}
}

// newFlags makes a FlagSet whose -h/--help prints usage to stdout.
func newFlags(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fs.SetOutput(env.Stdout)
		fmt.Fprintf(env.Stdout, "Usage: webui %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping --help to a nil-exit and bad flags to a usage
// error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return exitcode.New(exitcode.Usage, err)
	}
	if fs.NArg() > 0 {
		return exitcode.Newf(exitcode.Usage, "unexpected argument %q (see `webui %s --help`)", fs.Arg(0), fs.Name())
	}
	return nil
}

// errHelp means usage was printed on request: exit 0.
var errHelp = errors.New("help shown")

// IsHelp reports whether err only means "usage was printed".
func IsHelp(err error) bool { return errors.Is(err, errHelp) }

// configError maps config problems to the usage exit code.
func configError(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return exitcode.New(exitcode.Usage, err)
	}
	return err
}
