//go:build webuitest

package update

import (
	"os"
	"time"
)

// In webuitest builds, WEBUI_TEST_UPDATE_PAUSE=<step> stops an apply at
// that pause point (download, verify, install, restart): it creates the
// file named by WEBUI_TEST_UPDATE_PAUSE_MARK and sleeps, so a test can
// SIGKILL the process exactly there.
func init() {
	step := os.Getenv("WEBUI_TEST_UPDATE_PAUSE")
	if step == "" {
		return
	}
	mark := os.Getenv("WEBUI_TEST_UPDATE_PAUSE_MARK")
	pause = func(at string) {
		if at != step {
			return
		}
		if mark != "" {
			_ = os.WriteFile(mark, []byte(at+"\n"), 0o600)
		}
		time.Sleep(time.Hour)
	}
}
