package logfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	if err := Tail(context.Background(), path, Options{Lines: 3}, func(l string) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], "line 4997 ") || !strings.HasPrefix(got[2], "line 4999 ") {
		t.Errorf("last 3 lines: %q", got)
	}
	got = nil
	_ = Tail(context.Background(), path, Options{Lines: 10000}, func(l string) { got = append(got, l) })
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
		done <- Tail(ctx, path, Options{Lines: 2, Follow: true, Poll: 10 * time.Millisecond}, func(l string) {
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

// TestFollowTwoRotationsInOnePoll: a burst rotates the log twice between
// two polls. The middle file was never open to the follower; its lines
// still come, between the old file's and the new one's.
func TestFollowTwoRotationsInOnePoll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "webui.log")
	writeFile := func(name string, from, to int) {
		t.Helper()
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(path, 0, 3)
	// An older backup, and one that is no log of this file's: neither is
	// followed.
	writeFile(filepath.Join(dir, "webui-2026-01-01T00-00-00.000.log"), 100, 102)
	writeFile(filepath.Join(dir, "other-2026-01-02T03-04-06.000.log"), 200, 202)

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		done <- Tail(ctx, path, Options{Lines: 3, Follow: true, Poll: 400 * time.Millisecond}, func(l string) {
			mu.Lock()
			got = append(got, l)
			if len(got) == 3 {
				once.Do(func() { close(started) })
			}
			mu.Unlock()
		})
	}()
	<-started
	// Within the follower's sleep: rotate, write a whole file, rotate again.
	if err := os.Rename(path, filepath.Join(dir, "webui-2026-01-02T03-04-05.000.log")); err != nil {
		t.Fatal(err)
	}
	writeFile(path, 3, 6)
	if err := os.Rename(path, filepath.Join(dir, "webui-2026-01-02T03-04-06.000.log")); err != nil {
		t.Fatal(err)
	}
	writeFile(path, 6, 9)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 9 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 9; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("followed:\n got  %q\n want %q", got, want)
	}
}

// TestLastKeepsUnfinished: a lifetime record's tail keeps the line a
// process was writing when it died; Tail leaves it for its newline.
func TestLastKeepsUnfinished(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if got := Last(path, 0, 3); got != nil {
		t.Errorf("no file: %q", got)
	}
	if err := os.WriteFile(path, []byte("a\nb\npanic: boo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Last(path, 0, 2), ","); got != "b,panic: boo" {
		t.Errorf("Last = %q", got)
	}
	var got []string
	if err := Tail(context.Background(), path, Options{Lines: 2}, func(l string) { got = append(got, l) }); err != nil || strings.Join(got, ",") != "a,b" {
		t.Errorf("Tail = %q, %v", got, err)
	}
	if got := strings.Join(Last(path, 2, 5), ","); got != "b,panic: boo" {
		t.Errorf("Last after offset 2 = %q", got)
	}
	if got := Last(path, 14, 5); got != nil {
		t.Errorf("nothing after the end: %q", got)
	}
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Last(path, 0, 2); got != nil {
		t.Errorf("an empty line: %q", got)
	}
}

// TestTailMissing: without Follow a missing file is an error; a follow
// waits for it and prints what it gets.
func TestTailMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.log")
	if err := Tail(context.Background(), path, Options{Lines: 1}, func(string) {}); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, path, Options{Lines: 5, Follow: true, Poll: 10 * time.Millisecond}, func(l string) { got <- l })
	}()
	time.Sleep(30 * time.Millisecond)
	if err := os.WriteFile(path, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-got:
		if l != "hello" {
			t.Errorf("line %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follow never saw the file")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
