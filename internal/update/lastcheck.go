package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// lastCheckFile keeps the last check's answer, so `webui doctor` (another
// process) can say what it was.
func lastCheckFile(stateDir string) string { return filepath.Join(Dir(stateDir), "check.json") }

// writeLastCheck persists a check's answer (0600, atomic). A failure only
// costs the doctor its line; the check itself has answered.
func writeLastCheck(stateDir string, res CheckResult) error {
	if err := os.MkdirAll(Dir(stateDir), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(lastCheckFile(stateDir), append(b, '\n'))
}

// ReadLastCheck reads the last check's answer; ok is false when no check
// has run here yet.
func ReadLastCheck(stateDir string) (res CheckResult, ok bool, err error) {
	b, err := os.ReadFile(lastCheckFile(stateDir))
	if errors.Is(err, fs.ErrNotExist) {
		return CheckResult{}, false, nil
	}
	if err != nil {
		return CheckResult{}, false, err
	}
	if err := json.Unmarshal(b, &res); err != nil || res.CheckedAt.IsZero() {
		return CheckResult{}, false, fmt.Errorf("%s: damaged", lastCheckFile(stateDir))
	}
	return res, true, nil
}
