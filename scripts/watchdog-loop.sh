#!/bin/sh
# webui-watchdog-loop: run `webui watchdog` in the background, detached from
# the terminal, for good. The watchdog brings the server back when it dies
# (seen at once) or hangs (`webui watchdog --help`); this loop only starts
# the watchdog again if the watchdog itself dies, pausing 1s, 2s, 4s, ...
# up to 5 minutes. It ends when the watchdog exits 0 (stopped on purpose:
# `webui ctl stop --watchdog`) or 4 (another watchdog already runs).
# Flags go on to `webui watchdog`: --interval 10s, --addr ..., ...
#
# Run this loop (Termux:Boot: `webui boot enable`) or termux-services
# (`sv-enable webui`), not both.

termux=/data/data/com.termux/files/usr
if [ -z "${PREFIX:-}" ] && [ -x "$termux/bin/sh" ]; then
	PREFIX=$termux
	export PREFIX
fi
case "${PREFIX:-}" in
*/com.termux/*)
	PATH="$PREFIX/bin:$PATH"
	TMPDIR="${TMPDIR:-$PREFIX/tmp}"
	export PATH TMPDIR
	;;
esac
webui=${WEBUI_BIN:-webui}

if [ "${WEBUI_WATCHDOG_LOOP:-}" != detached ]; then
	# Say now what is wrong with the flags or settings, or that a watchdog
	# already runs: once detached, nobody would see it.
	"$webui" watchdog --check "$@"
	code=$?
	case $code in
	0) ;;
	4) exit 0 ;;
	*) exit "$code" ;;
	esac
	# Detach into a new session, so that neither a closing terminal
	# (SIGHUP) nor a signal to the launching shell's process group
	# reaches the loop. Without setsid, ignoring SIGHUP is what is left
	# (an ignored signal stays ignored across exec).
	WEBUI_WATCHDOG_LOOP=detached
	export WEBUI_WATCHDOG_LOOP
	if command -v setsid >/dev/null 2>&1; then
		setsid sh "$0" "$@" </dev/null >/dev/null 2>&1 &
	else
		trap '' HUP
		sh "$0" "$@" </dev/null >/dev/null 2>&1 &
	fi
	echo "webui-watchdog-loop: running in the background (pid $!); \`webui ctl status\` shows the watchdog"
	exit 0
fi

pause=1
restarts=0
prev=
while :; do
	started=$(date +%s)
	WEBUI_WATCHDOG_RESTARTS=$restarts WEBUI_WATCHDOG_PREV_EXIT=$prev "$webui" watchdog "$@"
	code=$?
	case $code in
	0 | 4) exit 0 ;;
	esac
	# A watchdog that ran for a while died of something new: start over.
	if [ $(($(date +%s) - started)) -ge 60 ]; then
		pause=1
	fi
	sleep "$pause"
	pause=$((pause * 2))
	if [ "$pause" -gt 300 ]; then
		pause=300
	fi
	restarts=$((restarts + 1))
	prev="code $code"
done
