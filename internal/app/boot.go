// webui boot: the Termux:Boot autostart script.

package app

import (
	"context"
	"fmt"

	"github.com/termux-webui/webui/internal/ctl"
	"github.com/termux-webui/webui/internal/exitcode"
)

// Boot is `webui boot enable|disable|status`: the Termux:Boot script in
// ~/.termux/boot.
func Boot(_ context.Context, env Env, args []string) error {
	usage := "Usage: webui boot enable|disable|status\n\n" +
		"enable   write ~/.termux/boot/webui: at boot Termux:Boot takes a wake lock, starts\n" +
		"         webui (start-webui) and its watchdog (webui-watchdog-loop)\n" +
		"disable  remove it\n" +
		"status   enabled (exit 0) or disabled (exit 3), and whether the script is current\n"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(env.Stdout, usage)
		return errHelp
	}
	if len(args) != 1 {
		fmt.Fprint(env.Stderr, usage)
		return exitcode.Newf(exitcode.Usage, "which? enable, disable or status")
	}
	home := env.Getenv("HOME")
	if home == "" {
		return exitcode.Newf(exitcode.Usage, "HOME is not set: cannot find ~/.termux/boot")
	}
	switch args[0] {
	case "enable":
		before, err := ctl.BootStatus(home)
		if err != nil {
			return err
		}
		changed, err := ctl.BootEnable(home)
		if err != nil {
			return err
		}
		switch {
		case !changed:
			fmt.Fprintf(env.Stdout, "already enabled: %s\n", before.Path)
		case before.Enabled:
			fmt.Fprintf(env.Stdout, "enabled: %s (replaced a script that differed from this version's)\n", before.Path)
		default:
			fmt.Fprintf(env.Stdout, "enabled: %s\n", before.Path)
		}
		if !detectPlatform().Termux.Value {
			fmt.Fprintln(env.Stderr, "note: this is not Termux; Termux:Boot is an Android app, and nothing here runs ~/.termux/boot (on Linux, use the systemd unit: systemctl enable --now webui)")
		}
		return nil
	case "disable":
		removed, err := ctl.BootDisable(home)
		if err != nil {
			return err
		}
		if removed {
			fmt.Fprintf(env.Stdout, "disabled: removed %s\n", ctl.BootPath(home))
		} else {
			fmt.Fprintf(env.Stdout, "already disabled: no %s\n", ctl.BootPath(home))
		}
		return nil
	case "status":
		s, err := ctl.BootStatus(home)
		if err != nil {
			return err
		}
		switch {
		case !s.Enabled:
			fmt.Fprintf(env.Stdout, "disabled: no %s (`webui boot enable` to start webui at boot)\n", s.Path)
			return silent(3)
		case s.Current:
			fmt.Fprintf(env.Stdout, "enabled: %s\n", s.Path)
		default:
			fmt.Fprintf(env.Stdout, "enabled: %s, but it differs from this version's script (`webui boot enable` replaces it)\n", s.Path)
		}
		return nil
	}
	return exitcode.Newf(exitcode.Usage, "unknown boot command %q: enable, disable or status", args[0])
}
