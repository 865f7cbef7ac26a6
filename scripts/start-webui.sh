#!/bin/sh
# start-webui: start the webui server in the background and wait until it
# answers (`webui ctl start`), with the environment an interactive Termux
# shell has, so it also works from Termux:Boot, Termux:Widget or cron.
# Flags go on to `webui ctl start`: --addr 127.0.0.1:9000, --wait 30s, ...
# Exit 0: webui runs (it may have been running already). Otherwise it prints
# the server's last console lines and why it died, and exits non-zero.

termux=/data/data/com.termux/files/usr
if [ -z "${PREFIX:-}" ] && [ -x "$termux/bin/sh" ]; then
	PREFIX=$termux
	export PREFIX
fi
case "${PREFIX:-}" in
*/com.termux/*)
	PATH="$PREFIX/bin:$PATH"
	# Termux keeps temporary files in $PREFIX/tmp: Android has no /tmp.
	TMPDIR="${TMPDIR:-$PREFIX/tmp}"
	export PATH TMPDIR
	;;
esac

exec "${WEBUI_BIN:-webui}" ctl start "$@"
