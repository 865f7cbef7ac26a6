package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// BootScript is the Termux:Boot script that `webui boot enable` writes. It
// is packaging/termux/boot/webui byte for byte (a test keeps them equal;
// the package also ships it as $PREFIX/share/webui/termux-boot/webui).
const BootScript = `#!/data/data/com.termux/files/usr/bin/sh
# Termux:Boot script for webui. ` + "`webui boot enable`" + ` writes it to
# ~/.termux/boot/webui; Termux:Boot runs it when the phone starts.
# Use this or termux-services (` + "`sv-enable webui`" + `), not both.
export PREFIX=/data/data/com.termux/files/usr
export PATH="$PREFIX/bin:$PATH"

# Hold a wake lock so Android does not suspend the server in the background.
termux-wake-lock

# Start the server, then keep watching it: the loop starts it again when
# /health goes dark, waiting out Android's restart kill window.
start-webui
exec webui-watchdog-loop
`

// BootPath is where Termux:Boot looks for the script: ~/.termux/boot/webui.
func BootPath(home string) string { return filepath.Join(home, ".termux", "boot", "webui") }

// BootState is what `webui boot status` reports.
type BootState struct {
	Path    string `json:"path"`
	Enabled bool   `json:"enabled"`
	// Current: the file is the script this version writes.
	Current bool `json:"current"`
}

// BootStatus looks at the boot script in home.
func BootStatus(home string) (BootState, error) {
	s := BootState{Path: BootPath(home)}
	b, err := os.ReadFile(s.Path)
	switch {
	case notExist(err):
		return s, nil
	case err != nil:
		return s, fmt.Errorf("boot script: %w", err)
	}
	s.Enabled = true
	s.Current = bytes.Equal(b, []byte(BootScript))
	return s, nil
}

// BootEnable writes the boot script (0755, atomically), creating
// ~/.termux/boot. changed is false when it was already there as is.
func BootEnable(home string) (changed bool, err error) {
	if home == "" {
		return false, errors.New("HOME is not set")
	}
	s, err := BootStatus(home)
	if err != nil {
		return false, err
	}
	if s.Current {
		// Also repair the mode, which Termux:Boot needs.
		return false, os.Chmod(s.Path, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return false, fmt.Errorf("boot script: %w", err)
	}
	if err := renameio.WriteFile(s.Path, []byte(BootScript), 0o755, renameio.WithStaticPermissions(0o755)); err != nil {
		return false, fmt.Errorf("boot script: %w", err)
	}
	return true, nil
}

// BootDisable removes the boot script. removed is false when there was
// none.
func BootDisable(home string) (removed bool, err error) {
	if home == "" {
		return false, errors.New("HOME is not set")
	}
	err = os.Remove(BootPath(home))
	switch {
	case notExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("boot script: %w", err)
	}
	return true, nil
}
