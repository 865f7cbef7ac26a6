// Package health is what every webui process agrees on about GET /health:
// the document the server answers with, the address it is asked at, and
// the one client that asks it. The server builds the document; ctl, the
// watchdog, the restart helper, the update confirmer and the doctor read
// it. It imports only the standard library (and jsonfast, which imports
// only that), so all of them can.
package health

import "time"

// Doc is the /health document. Its JSON is a contract between processes
// of different versions (an update's confirmer reads the new server's):
// fields are added, never renamed.
type Doc struct {
	Status    string      `json:"status"` // "ok" or "degraded"
	Version   string      `json:"version"`
	PID       int         `json:"pid"`
	StartedAt time.Time   `json:"started_at"`
	UptimeS   float64     `json:"uptime_s"`
	Platform  Platform    `json:"platform"`
	Restart   RestartInfo `json:"restart"`
	// Deep checks, only with ?deep=1.
	Checks     map[string]Check `json:"checks,omitempty"`
	Goroutines int              `json:"goroutines,omitempty"`
	OpenFDs    int              `json:"open_fds,omitempty"`
	Inflight   int              `json:"inflight,omitempty"`
}

// Platform is the short platform summary in the document. The fields are
// in the order of their JSON names, as the map it once was encoded them.
type Platform struct {
	Android        bool   `json:"android"`
	AndroidVersion string `json:"android_version,omitempty"`
	Arch           string `json:"arch"`
	OS             string `json:"os"`
	PRoot          bool   `json:"proot"`
	// Supervisor is one of the Supervisor names.
	Supervisor string `json:"supervisor"`
	Termux     bool   `json:"termux"`
}

// Supervised reports whether runit or systemd starts the server again
// when it exits.
func (p Platform) Supervised() bool {
	return p.Supervisor == SupervisorRunit || p.Supervisor == SupervisorSystemd
}

// Supervisor names: who runs the server (platform detects it).
const (
	SupervisorSystemd = "systemd"
	SupervisorRunit   = "runit"
	SupervisorDocker  = "docker"
	SupervisorNone    = "none"
)

// RestartInfo says which restart strategy applies and why.
type RestartInfo struct {
	Strategy Strategy `json:"strategy"`
	Why      string   `json:"why"`
}

// Strategy is how a restart is carried out.
type Strategy string

// The restart strategies.
const (
	// StrategyExec: syscall.Exec in place, same pid, listener handed over.
	StrategyExec Strategy = "exec"
	// StrategyDelayed: a process that outlives Android's kill window
	// starts the new server after it.
	StrategyDelayed Strategy = "delayed"
	// StrategySupervisor: exit and let systemd or runit start the new one.
	StrategySupervisor Strategy = "supervisor"
)

// Check is the outcome of one deep check.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Data   any    `json:"data,omitempty"`
}
