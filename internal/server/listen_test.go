package server

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/termux-webui/webui/internal/exitcode"
)

func TestListen(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0", "localhost:0", "[::1]:0", ":0"} {
		ln, err := Listen(addr)
		if err != nil {
			if strings.Contains(addr, "::1") {
				t.Logf("%s: %v (no IPv6 loopback here)", addr, err)
				continue
			}
			t.Fatalf("%s: %v", addr, err)
		}
		if _, ok := ln.(*net.TCPListener); !ok {
			t.Errorf("%s: a %T, not a TCP listener (restarts hand it over as a file)", addr, ln)
		}
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%s: dial %s: %v", addr, ln.Addr(), err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		c.Close()
		// A second listener on the same port is refused with the words
		// that say what to do.
		_, err = Listen(ln.Addr().String())
		if exitcode.Of(err) != exitcode.Listen || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("%s again: %v", ln.Addr(), err)
		}
		ln.Close()
	}
}

// The socket made by hand queues as many clients as the kernel allows,
// as the net package's does.
func TestListenBacklog(t *testing.T) {
	ss, err := exec.LookPath("ss")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ss (iproute2) is missing")
		}
		t.Skip("no ss to read the backlog:", err)
	}
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		t.Skip(err)
	}
	want := strings.TrimSpace(string(b))
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.Command(ss, "-Hltn", "sport = :"+port).Output()
	if err != nil {
		t.Fatal(err)
	}
	// State Recv-Q Send-Q Local Peer: a listener's Send-Q is its backlog.
	f := strings.Fields(string(out))
	if len(f) < 3 || f[2] != want {
		t.Fatalf("backlog: ss says %q, somaxconn is %s", out, want)
	}
}
