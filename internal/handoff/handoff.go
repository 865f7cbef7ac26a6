// Package handoff names the environment variables one webui process sets
// for the next: the server for the image it execs, the restart helper and
// the watchdog for the server they start, the watchdog loop for the
// watchdog, the updater for dpkg. It imports nothing, so the first-line
// marker (internal/firstline) can use it.
package handoff

import (
	"slices"
	"strings"
)

// The handoff variables. Each describes one process to the one it starts,
// and must not leak further: a server that inherited a listening socket's
// fd number would otherwise pass a stale one to a process it spawns.
const (
	// ListenFD is the inherited listening socket's fd after an exec
	// restart; ListenPID is the pid it was meant for, so a stray variable
	// is never trusted.
	ListenFD  = "WEBUI_LISTEN_FD"
	ListenPID = "WEBUI_LISTEN_PID"
	// PIDFileFD is the inherited fd that holds the pid file lock across an
	// exec restart.
	PIDFileFD = "WEBUI_PIDFILE_FD"
	// RestartOf carries the previous lifetime's id into the next
	// first-line marker.
	RestartOf = "WEBUI_RESTART_OF"
	// SystemdListenFDs, SystemdListenPID and SystemdListenFDNames are
	// systemd's socket activation (the socket is fd 3).
	SystemdListenFDs     = "LISTEN_FDS"
	SystemdListenPID     = "LISTEN_PID"
	SystemdListenFDNames = "LISTEN_FDNAMES"
	// WatchdogRestarts and WatchdogPrevExit are what the watchdog loop
	// (scripts/watchdog-loop.sh) tells the watchdog it restarts: how many
	// times, and how the last one ended. WatchdogLoop marks the loop's
	// own detached copy.
	WatchdogRestarts = "WEBUI_WATCHDOG_RESTARTS"
	WatchdogPrevExit = "WEBUI_WATCHDOG_PREV_EXIT"
	WatchdogLoop     = "WEBUI_WATCHDOG_LOOP"
	// Updating is set to 1 for dpkg during a self-update: the maintainer
	// scripts then leave the restart to the updater.
	Updating = "WEBUI_UPDATING"
)

// StraceRestart, set to 1, runs the server a delayed restart starts under
// strace. It is a debugging switch, not a handoff: it is not in Names, so
// every restart of a server started with it keeps it.
const StraceRestart = "WEBUI_STRACE_RESTART"

// Names lists every handoff variable.
var Names = []string{
	ListenFD, ListenPID, PIDFileFD, RestartOf,
	SystemdListenFDs, SystemdListenPID, SystemdListenFDNames,
	WatchdogRestarts, WatchdogPrevExit, WatchdogLoop, Updating,
}

// Listener lists the variables that hand a listening socket and the pid
// file lock to a new image: the ones it consumes at start-up.
var Listener = []string{ListenFD, ListenPID, PIDFileFD, SystemdListenFDs, SystemdListenPID, SystemdListenFDNames}

// StripHandoff returns env without the handoff variables, for a process
// about to hand its own. env is not modified.
func StripHandoff(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(Names, k) {
			out = append(out, kv)
		}
	}
	return out
}
