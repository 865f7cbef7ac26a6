package ctl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/termux-webui/webui/internal/paths"
)

func TestRender(t *testing.T) {
	got := Render(`{"addr":"127.0.0.1:8787","level":"info","msg":"webui listening","pid":42,"time":"2026-01-02T03:04:05.678Z","note":"two words"}`)
	for _, want := range []string{"INFO ", "webui listening", "addr=127.0.0.1:8787", "pid=42", `note="two words"`, ".678"} {
		if !strings.Contains(got, want) {
			t.Errorf("Render = %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "msg=") || strings.Contains(got, "level=") {
		t.Errorf("Render repeats the fixed fields: %q", got)
	}
	if got := Render("not json at all"); got != "not json at all" {
		t.Errorf("plain line: %q", got)
	}
}

func TestLastLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webui.log")
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%50))
	}
	b.WriteString("unfinished")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := Logs(context.Background(), path, LogOptions{Lines: 3}, func(l string) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "line 4997 ") || !strings.HasPrefix(got[2], "line 4999 ") {
		t.Errorf("last 3 lines: %q", got)
	}
	got = nil
	_ = Logs(context.Background(), path, LogOptions{Lines: 10000}, func(l string) { got = append(got, l) })
	if len(got) != 5000 || got[0] != "line 0 " {
		t.Errorf("all lines: %d, first %q", len(got), got[0])
	}
}

// TestFollowRotation follows a file through a lumberjack-style rotation
// (rename, new file) and a truncation, losing and repeating nothing.
func TestFollowRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "webui.log")
	write := func(f *os.File, from, to int) {
		for i := from; i < to; i++ {
			fmt.Fprintf(f, "line %d\n", i)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	write(f, 0, 10)

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Logs(ctx, path, LogOptions{Lines: 2, Follow: true, Poll: 10 * time.Millisecond}, func(l string) {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
		})
	}()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			c := len(got)
			mu.Unlock()
			if c >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %d lines, want %d: %q", c, n, got)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(2)
	write(f, 10, 20)
	waitFor(12)
	// Rotate: the writer renames and goes on in a new file, after one more
	// line into the old one that the follower must not miss.
	if err := os.Rename(path, filepath.Join(dir, "webui-2026-01-02T03-04-05.000.log")); err != nil {
		t.Fatal(err)
	}
	write(f, 20, 21)
	f.Close()
	f, err = os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	write(f, 21, 30)
	waitFor(22)
	// Truncate in place and start over.
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	write(f, 30, 32)
	waitFor(24)
	f.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"line 8", "line 9"}
	for i := 10; i < 32; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("followed:\n got  %q\n want %q", got, want)
	}
}

// TestTrimConsole: a big console.log is kept as console.log.1 and emptied,
// and a writer holding it open (O_APPEND, as the server does) writes on at
// its new start.
func TestTrimConsole(t *testing.T) {
	i := &Instance{LogDir: t.TempDir()}
	w, err := os.OpenFile(paths.Log(i.LogDir).Console(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("small\n"); err != nil {
		t.Fatal(err)
	}
	if err := i.TrimConsole(); err != nil || fileSize(paths.Log(i.LogDir).Console()) != 6 {
		t.Fatalf("a small file was trimmed: %v", err)
	}
	big := strings.Repeat("x", maxConsole) + "\n"
	if _, err := w.WriteString(big); err != nil {
		t.Fatal(err)
	}
	if err := i.TrimConsole(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("after\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(paths.Log(i.LogDir).Console()); string(b) != "after\n" {
		t.Errorf("console.log after the trim: %d bytes", len(b))
	}
	if got := fileSize(paths.Log(i.LogDir).Console() + ".1"); got != int64(6+len(big)) {
		t.Errorf("console.log.1: %d bytes", got)
	}
}
