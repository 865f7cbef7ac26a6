// Command webui is a web UI server for phones that never dies silently.
// main only dispatches subcommands; the work lives in internal/.
package main

import (
	// Early: the first-line marker, SIGPIPE immunity and the server's
	// signals. Go initialises packages in import-path order once their
	// imports are, so these few-import packages run in the first half of
	// initialisation, not first; each starts its work on a goroutine.
	_ "github.com/termux-webui/webui/internal/firstline"
	_ "github.com/termux-webui/webui/internal/nosigpipe"
	_ "github.com/termux-webui/webui/internal/sigahead"

	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/termux-webui/webui/internal/app"
	"github.com/termux-webui/webui/internal/exitcode"
)

func commands() []app.Command {
	return []app.Command{
		{Name: "serve", Summary: "run the server in the foreground (the default)", Run: app.Serve},
		{Name: "app", Summary: "the hosted apps: list, status, start, stop, restart, logs, add, reload", Run: app.App},
		{Name: "boot", Summary: "start webui at boot with Termux:Boot (enable, disable, status)", Run: app.Boot},
		{Name: "config", Summary: "print the effective settings and where each came from", Run: app.Config},
		{Name: "ctl", Summary: "start, stop, restart, status and logs of the background server", Run: app.Ctl},
		{Name: "diagnose", Summary: "explain how the last server lifetimes ended", Run: app.Diagnose},
		{Name: "doctor", Summary: "say what on this device will stop or freeze webui, and the fix", Run: app.Doctor},
		{Name: "passwd", Summary: "set the login password (needed for a non-loopback bind)", Run: app.Passwd},
		{Name: "platform", Summary: "show what webui detects it runs on, and the restart strategy it picks", Run: app.Platform},
		{Name: "release", Summary: "publish a release feed: keygen, manifest, sign", Run: app.Release},
		{Name: "restart", Summary: "restart the running server through the restart engine", Run: app.Restart},
		{Name: "restart-helper", Summary: "(internal) carry a delayed restart across the old process's exit", Run: app.RestartHelper},
		{Name: "token", Summary: "print the access token, or --rotate it (signs everyone out)", Run: app.Token},
		{Name: "update", Summary: "check for, apply and follow self-updates (check, apply, status)", Run: app.Update},
		{Name: "url", Summary: "print the link that signs a browser in (--open opens it)", Run: app.URL},
		{Name: "version", Summary: "print the version", Run: app.Version},
		{Name: "watchdog", Summary: "keep the server up: restart it when it dies or hangs", Run: app.Watchdog},
	}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := app.Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	// `webui -h` is serve's help (flags alone mean serve); `webui help` is
	// the list of commands.
	if name == "help" {
		if len(args) > 0 {
			return run(ctx, []string{args[0], "--help"}, getenv, stdin, stdout, stderr)
		}
		usage(stdout)
		return exitcode.OK
	}
	for _, c := range commands() {
		if c.Name != name {
			continue
		}
		err := c.Run(ctx, env, args)
		if err == nil || app.IsHelp(err) {
			return exitcode.OK
		}
		if !app.IsSilent(err) {
			fmt.Fprintf(stderr, "webui %s: %v\n", name, err)
		}
		return exitcode.Of(err)
	}
	fmt.Fprintf(stderr, "webui: unknown command %q (run `webui help` for the list)\n", name)
	return exitcode.Usage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: webui [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w, "  help       show this help, or `webui help COMMAND`")
	fmt.Fprintln(w, "\nWith no command, webui serves. Every command answers --help.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 cannot listen,")
	fmt.Fprintln(w, "4 already running, 75 restart requested, 130 forced by a second SIGINT.")
}
