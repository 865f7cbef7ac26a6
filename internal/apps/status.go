package apps

import "time"

// States of an app (`state` in `webui app list --json`).
const (
	StateRunning  = "running"
	StateStarting = "starting"
	StateBackoff  = "backoff"
	StateStopped  = "stopped"
	StateFailed   = "failed"
)

// Status is what webui knows of one app now. Its JSON starts with the
// fields pinned for `webui app list --json`.
type Status struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"` // "" for a file too broken to tell
	State    string `json:"state"`
	PID      int    `json:"pid"` // the process app's pid; 0 when none runs
	Restarts int    `json:"restarts"`
	Route    string `json:"route"`

	Started     *time.Time `json:"started,omitempty"` // when the running process started
	Uptime      int64      `json:"uptime,omitempty"`  // seconds since Started, while it runs
	NextTry     *time.Time `json:"next_try,omitempty"`
	LastVerdict string     `json:"last_verdict,omitempty"` // how its last process ended
	Error       string     `json:"error,omitempty"`        // file:line of a broken file, or why it failed
	Port        int        `json:"port,omitempty"`
	File        string     `json:"file,omitempty"`
	// SpecChanged: the running process predates a change to its file (it
	// was adopted); Reload restarts it.
	SpecChanged bool `json:"spec_changed,omitempty"`
}
