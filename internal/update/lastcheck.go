package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/termux-webui/webui/internal/paths"
)

// The last check's answer is kept so `webui doctor` (another process) can
// say what it was.

// writeLastCheck persists a check's answer (0600, atomic). A failure only
// costs the doctor its line; the check itself has answered.
func writeLastCheck(stateDir string, res CheckResult) error {
	if err := os.MkdirAll(string(paths.State(stateDir).Updates()), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(paths.State(stateDir).Updates().LastCheck(), append(b, '\n'))
}

// ReadLastCheck reads the last check's answer; ok is false when no check
// has run here yet.
func ReadLastCheck(stateDir string) (res CheckResult, ok bool, err error) {
	b, err := os.ReadFile(paths.State(stateDir).Updates().LastCheck())
	if errors.Is(err, fs.ErrNotExist) {
		return CheckResult{}, false, nil
	}
	if err != nil {
		return CheckResult{}, false, err
	}
	if err := json.Unmarshal(b, &res); err != nil || res.CheckedAt.IsZero() {
		return CheckResult{}, false, fmt.Errorf("%s: damaged", paths.State(stateDir).Updates().LastCheck())
	}
	return res, true, nil
}
