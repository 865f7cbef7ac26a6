// Package firstline runs webui's first user code. cmd/webui imports it before
// anything else, and it imports nothing heavier than os and syscall, so its
// init runs before the rest of the program is initialised.
package firstline

import (
	"os"
	"time"
)

// Started is when this process's first user code ran.
var Started = time.Now()

// PID is this process's id, read once.
var PID = os.Getpid()
