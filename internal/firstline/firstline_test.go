package firstline

import "testing"

func TestIsServer(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"webui"}, true},
		{[]string{"webui", "serve"}, true},
		{[]string{"webui", "--addr", "127.0.0.1:1"}, true},
		{[]string{"webui", "serve", "--", "--help"}, true},
		{[]string{"webui", "diagnose"}, false},
		{[]string{"webui", "ctl", "start"}, false},
		{[]string{"webui", "help", "serve"}, false},
		{[]string{"webui", "--help"}, false},
		{[]string{"webui", "-h"}, false},
		{[]string{"webui", "serve", "-help"}, false},
		{[]string{"/tmp/go-build1/b001/server.test", "-test.paniconexit0", "-test.timeout=10m0s"}, false},
		{[]string{"diag.test"}, false},
		{nil, false},
	} {
		if got := isServer(c.args); got != c.want {
			t.Errorf("isServer(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

func TestNoRecordInTestBinary(t *testing.T) {
	if Record != nil || RecordDir != "" {
		t.Errorf("a test binary opened a lifetime record in %s", RecordDir)
	}
}
