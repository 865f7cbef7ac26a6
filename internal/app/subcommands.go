package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/termux-webui/webui/internal/exitcode"
)

// subcommand is one verb of a command group (`webui ctl start`).
type subcommand struct {
	name string
	run  func(ctx context.Context, env Env, args []string) error
}

// dispatch runs the verb args[0] of the group `webui group`: no verb
// prints the usage and exits 2, help prints it and exits 0, an unknown verb
// names the ones there are. hidden verbs run but are not listed.
func dispatch(ctx context.Context, env Env, group, usage string, args []string, verbs []subcommand, hidden ...subcommand) error {
	names := make([]string, len(verbs))
	for i, v := range verbs {
		names[i] = v.name
	}
	list := strings.Join(names, ", ")
	if i := strings.LastIndex(list, ", "); i >= 0 {
		list = list[:i] + " or " + list[i+2:]
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return exitcode.Newf(exitcode.Usage, "which command? %s", list)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return errHelp
	}
	for _, v := range append(verbs, hidden...) {
		if v.name == args[0] {
			return v.run(ctx, env, args[1:])
		}
	}
	return exitcode.Newf(exitcode.Usage, "unknown command %q: %s (see `webui %s --help`)", args[0], list, group)
}
