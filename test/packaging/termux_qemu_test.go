package packaging_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// arm64Loader finds glibc's arm64 dynamic loader, which stands in for
// Android's /system/bin/linker64 (a GOOS=android binary asks for it but
// needs nothing from it beyond being started).
func arm64Loader(t *testing.T) string {
	t.Helper()
	candidates := []string{
		os.Getenv("WEBUI_ARM64_LOADER"),
		"/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", // libc6-arm64-cross
		"/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", // libc6:arm64
		"/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	require(t, false, "no arm64 glibc loader (apt-get install libc6-arm64-cross; or dpkg --add-architecture arm64 && apt-get update && apt-get download libc6:arm64 && dpkg-deb -x libc6_*_arm64.deb DIR, then WEBUI_ARM64_LOADER=DIR/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1)")
	return ""
}

// freePort finds a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestTermuxAarch64UnderQemu unpacks the aarch64 Termux package into a fake
// root and runs its GOOS=android binary under qemu-aarch64-static, with a
// Termux environment whose $PREFIX is the fake root's prefix.
func TestTermuxAarch64UnderQemu(t *testing.T) {
	t.Parallel()
	qemu := tool(t, "qemu-aarch64-static")
	tool(t, "dpkg-deb")
	loader := arm64Loader(t)
	deb := debPath(mainDebs(t), v1, "termux-aarch64")

	root := t.TempDir()
	output(t, "dpkg-deb", "-x", deb, root)
	// A copy, not a symlink: qemu resolves the interpreter inside -L.
	linker := filepath.Join(root, "system/bin/linker64")
	if err := os.MkdirAll(filepath.Dir(linker), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(loader)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(linker, data, 0o755); err != nil {
		t.Fatal(err)
	}

	prefix := filepath.Join(root, termuxPrefix)
	home := filepath.Join(root, "data/data/com.termux/files/home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PREFIX=" + prefix,
		"TERMUX_VERSION=0.118.0",
		"HOME=" + home,
		"TMPDIR=" + filepath.Join(prefix, "tmp"),
		"PATH=" + filepath.Join(prefix, "bin") + ":/usr/bin:/bin",
		"LANG=en_US.UTF-8",
	}
	webui := func(args ...string) *exec.Cmd {
		cmd := exec.Command(qemu, append([]string{"-L", root, filepath.Join(prefix, "bin/webui")}, args...)...)
		cmd.Env = env
		return cmd
	}

	out, err := webui("version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), v1) || !strings.Contains(string(out), "android/arm64") {
		t.Fatalf("webui version: %v\n%s", err, out)
	}

	t.Run("serve", func(t *testing.T) {
		port := freePort(t)
		cmd := webui("serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		defer func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
			t.Logf("server output (exit: %v):\n%s", waitErr, logs.String())
		}()

		health := waitHealth(t, port, exited)
		if health["status"] != "ok" || health["version"] != v1 {
			t.Errorf("/health: %v", health)
		}
		if p, ok := health["platform"].(map[string]any); ok {
			if p["termux"] != true {
				t.Errorf("/health platform: %v, want termux", p)
			}
		}

		// State lives under the prefix: $PREFIX/var/lib/webui.
		state := filepath.Join(prefix, "var/lib/webui")
		fi, err := os.Stat(state)
		if err != nil || !fi.IsDir() {
			t.Fatalf("state dir %s: %v", state, err)
		}
		entries, _ := os.ReadDir(state)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Logf("state dir %s holds %v", state, names)
		if _, err := os.Stat(filepath.Join(state, "lifetimes")); err != nil {
			t.Logf("no lifetimes/ in the state dir yet (lifetime records not written by this build): %v", err)
		}
		if _, err := os.Stat(filepath.Join(home, ".local/state/webui")); err == nil {
			t.Error("state written under HOME (XDG), not the prefix: Termux was not detected")
		}
	})

	t.Run("platform", func(t *testing.T) {
		if out, err := webui("platform", "--help").CombinedOutput(); err != nil {
			t.Skipf("webui platform is not available in this build (%v): %s", err, out)
		}
		out, err := webui("platform", "--json").Output()
		if err != nil {
			t.Fatalf("webui platform --json: %v\n%s", err, out)
		}
		var report map[string]any
		if err := json.Unmarshal(out, &report); err != nil {
			t.Fatalf("webui platform --json: %v\n%s", err, out)
		}
		termux := report["termux"]
		if m, ok := termux.(map[string]any); ok {
			termux = m["value"]
		}
		if termux != true {
			t.Errorf("webui platform does not report Termux:\n%s", out)
		}
	})
}

// waitHealth polls GET /health until it answers 200 (qemu starts slowly).
func waitHealth(t *testing.T, port int, exited <-chan struct{}) map[string]any {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/health", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatal("the server exited before /health answered")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				var h map[string]any
				if err := json.Unmarshal(body, &h); err != nil {
					t.Fatalf("/health is not JSON: %v\n%s", err, body)
				}
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health did not answer within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
