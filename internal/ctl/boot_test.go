package ctl

import (
	"os"
	"testing"
)

// The script `webui boot enable` writes and the one the package ships must
// not drift apart.
func TestBootScriptMatchesPackaging(t *testing.T) {
	b, err := os.ReadFile("../../packaging/termux/boot/webui")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != BootScript {
		t.Errorf("packaging/termux/boot/webui differs from ctl.BootScript:\n--- file\n%s\n--- const\n%s", b, BootScript)
	}
}

func TestBootEnableDisable(t *testing.T) {
	home := t.TempDir()
	if s, err := BootStatus(home); err != nil || s.Enabled {
		t.Fatalf("fresh home: %+v %v", s, err)
	}
	if changed, err := BootEnable(home); err != nil || !changed {
		t.Fatalf("enable: %v %v", changed, err)
	}
	st, err := os.Stat(BootPath(home))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("boot script: %v %v", st.Mode(), err)
	}
	if s, _ := BootStatus(home); !s.Enabled || !s.Current {
		t.Errorf("after enable: %+v", s)
	}
	if changed, err := BootEnable(home); err != nil || changed {
		t.Errorf("enable again: %v %v", changed, err)
	}
	if err := os.WriteFile(BootPath(home), []byte("#!/bin/sh\nold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, _ := BootStatus(home); !s.Enabled || s.Current {
		t.Errorf("edited: %+v", s)
	}
	if changed, err := BootEnable(home); err != nil || !changed {
		t.Errorf("enable over an old script: %v %v", changed, err)
	}
	if st, _ := os.Stat(BootPath(home)); st.Mode().Perm() != 0o755 {
		t.Errorf("mode after replacing: %v", st.Mode())
	}
	if removed, err := BootDisable(home); err != nil || !removed {
		t.Errorf("disable: %v %v", removed, err)
	}
	if removed, err := BootDisable(home); err != nil || removed {
		t.Errorf("disable again: %v %v", removed, err)
	}
}
