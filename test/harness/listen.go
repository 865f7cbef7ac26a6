package harness

import (
	"fmt"
	"regexp"
	"time"
)

var listenRe = regexp.MustCompile(`"addr":"([0-9.:\[\]a-f]+)"[^\n]*listening`)

// ListenAddr is the address of the last "listening" line of a JSON log, or
// "" when there is none.
func ListenAddr(log string) string {
	if m := listenRe.FindAllStringSubmatch(log, -1); len(m) > 0 {
		return m[len(m)-1][1]
	}
	return ""
}

// WaitListening reads the installation's JSON log until the server says
// where it listens, and registers that address for OwnerTransport. It
// gives up when p exits first (p may be nil: a process not ours).
func WaitListening(d Dir, p *Proc, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if addr := ListenAddr(d.ReadLog()); addr != "" {
			Register(addr, d.State())
			return addr, nil
		}
		if p != nil && !p.Alive() {
			return "", fmt.Errorf("webui exited before listening (%v)", p.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("webui did not listen within %s", timeout)
}
