package restart

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/termux-webui/webui/internal/handoff"
)

// Inherited trusts the handoff variables only when they are meant for
// this process.
func TestInherited(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	cases := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"nothing", nil, false},
		{"for another pid", map[string]string{handoff.ListenFD: "3", handoff.ListenPID: "1"}, false},
		{"systemd for another pid", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "1"}, false},
		{"systemd with two sockets", map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": pid}, false},
		{"not a number", map[string]string{handoff.ListenFD: "three", handoff.ListenPID: pid}, true},
		{"stdio", map[string]string{handoff.ListenFD: "2", handoff.ListenPID: pid}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(handoff.ListenFD, "x") // Inherited clears these for children
			f, err := Inherited(func(k string) string { return c.env[k] })
			if f != nil || (err != nil) != c.wantErr {
				t.Fatalf("Inherited = %v, %v; want nil and error %v", f, err, c.wantErr)
			}
			if v, ok := os.LookupEnv(handoff.ListenFD); ok {
				t.Errorf("%s still set: %q", handoff.ListenFD, v)
			}
		})
	}
	t.Run("ours", func(t *testing.T) {
		srv := listen(t)
		f, err := srv.Drain(true)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := syscall.Dup(int(f.Fd())) // as exec leaves it: inheritable, owned by nobody yet
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Inherited(func(k string) string {
			return map[string]string{handoff.ListenFD: strconv.Itoa(fd), handoff.ListenPID: pid}[k]
		})
		if err != nil || got == nil || int(got.Fd()) != fd {
			t.Fatalf("Inherited = %v, %v; want fd %d", got, err, fd)
		}
		if !cloexec(t, fd) {
			t.Error("the inherited listener would leak into children")
		}
		if err := srv.Resume(got); err != nil { // serving on it proves it is the socket
			t.Fatal(err)
		}
		if err := get(srv.Addr); err != nil {
			t.Error(err)
		}
	})
}
