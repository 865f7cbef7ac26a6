// Package ctl controls a webui server from the outside: it is the logic
// behind `webui ctl start|stop|restart|status|logs`, `webui watchdog` and
// `webui boot`.
//
// An Instance names one server installation (its address and its run, log
// and state dirs) and knows how to start it detached, stop it, restart it,
// describe it and read its logs. The watchdog polls an Instance's /health
// and starts it again the same way `ctl start` does, so there is one start
// path, one stop path and one notion of "stopped on purpose" (the
// <run_dir>/webui.stopped marker that `ctl stop` writes and `ctl start`
// removes).
//
// Files in the run dir:
//
//	webui.pid            the server's pid file, flock'd for its whole life
//	webui.stopped        `ctl stop` stopped it: the watchdog leaves it down
//	webui-watchdog.pid   the watchdog's pid file, flock'd the same way
//	webui-watchdog.json  the watchdog's last action, for `ctl status`
//
// and in the log dir: console.log (the detached server's stdout and
// stderr) and watchdog.log (one text line per watchdog action).
package ctl
