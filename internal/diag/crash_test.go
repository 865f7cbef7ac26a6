package diag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Real crash output of the webuitest binary (GOTRACEBACK=all, -trimpath):
// an unrecovered panic in a goroutine, and "concurrent map writes", whose
// "fatal error:" line the runtime prints before it starts dying and so
// writes to stderr only, not to the SetCrashOutput file.
const (
	crashPanic = `panic: test unrecovered panic

goroutine 24 [running]:
github.com/termux-webui/webui/internal/testhooks.init.func1.6.1()
	github.com/termux-webui/webui/internal/testhooks/on.go:74 +0x25
created by github.com/termux-webui/webui/internal/testhooks.init.func1.6 in goroutine 22
	github.com/termux-webui/webui/internal/testhooks/on.go:74 +0xbe

goroutine 1 [select]:
github.com/termux-webui/webui/internal/server.Run({0x7fae70, 0xb01020}, {0xbe1a1e803c0, 0xbe1a1e9a1e0, {0x7cf89d, 0x3}, {0xc2ba542e21440bb8, 0x48468, 0xae0260}, 0xbe1a1e83c50, ...})
	github.com/termux-webui/webui/internal/server/run.go:134 +0x8ff
`
	crashFatalFile = `
goroutine 32 [running]:
internal/runtime/maps.fatal({0x7d735b?, 0x0?})
	runtime/panic.go:1181 +0x18
github.com/termux-webui/webui/internal/testhooks.init.func1.7.1()
	github.com/termux-webui/webui/internal/testhooks/on.go:83 +0x5b
created by github.com/termux-webui/webui/internal/testhooks.init.func1.7 in goroutine 23
	github.com/termux-webui/webui/internal/testhooks/on.go:81 +0xce

goroutine 1 [select]:
github.com/termux-webui/webui/internal/server.Run({0x7fae70, 0xb01020}, {0x2c9fc49030e0, 0x2c9fc491c220, {0x7cf89d, 0x3}, {0xc2ba542b766c3abf, 0x3ba23, 0xae0260}, 0x2c9fc491bda0, ...})
	github.com/termux-webui/webui/internal/server/run.go:134 +0x8ff
`
	crashSegv = `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x49e156]

goroutine 1 [running]:
main.main()
	/tmp/segv/main.go:11 +0x16
exit status 2
`
	crashSystem = `panic: assignment to entry in nil map

goroutine 1 gp=0x3ea2ab76a1e0 m=0 mp=0x5256a0 [running]:
panic({0x4839c0?, 0x520aa0?})
	/usr/local/go/src/runtime/panic.go:879 +0x16f fp=0x3ea2ab80ae50 sp=0x3ea2ab80ada0 pc=0x471ecf
runtime.mapassign_faststr(0x3ea2ab804068?, 0x3ea2ab79e738?, {0x48fd30?, 0x3ea2ab76a1e0?})
	/usr/local/go/src/internal/runtime/maps/runtime_faststr.go:265 +0x54d fp=0x3ea2ab80af18 sp=0x3ea2ab80ae50 pc=0x40df2d
main.main()
	/tmp/segv/main.go:5 +0x28 fp=0x3ea2ab80af48 sp=0x3ea2ab80af18 pc=0x47a768
runtime.main()
	/usr/local/go/src/runtime/proc.go:290 +0x2d5 fp=0x3ea2ab80afe0 sp=0x3ea2ab80af48 pc=0x443ef5
`
)

func TestCrashSummary(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, text, want string }{
		{"goroutine panic", crashPanic, "panic: test unrecovered panic at github.com/termux-webui/webui/internal/testhooks/on.go:74"},
		{"fatal error, header on stderr only", crashFatalFile, "fatal error: concurrent map access at github.com/termux-webui/webui/internal/testhooks/on.go:83"},
		{"fatal error with header", "fatal error: concurrent map writes\n" + crashFatalFile, "fatal error: concurrent map writes at github.com/termux-webui/webui/internal/testhooks/on.go:83"},
		{"nil pointer", crashSegv, "panic: runtime error: invalid memory address or nil pointer dereference at /tmp/segv/main.go:11"},
		{"runtime frames first, GOTRACEBACK=system", crashSystem, "panic: assignment to entry in nil map at /tmp/segv/main.go:5"},
		{"unknown fatal", "\ngoroutine 7 [running]:\nmain.spin(0x1)\n\t/src/x.go:3 +0x1\n", "fatal error in main.spin at /src/x.go:3"},
		{"garbage", "\x00\x01 not a go crash\n", "crash output present (no panic line found)"},
		{"no newline, huge line", strings.Repeat("x", 2<<20), "crash output present (no panic line found)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "x.crash")
			if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := crashSummary(p); got != c.want {
				t.Errorf("crashSummary = %q\n want %q", got, c.want)
			}
		})
	}
}
