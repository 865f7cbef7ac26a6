package paths

import "testing"

func TestAppsDir(t *testing.T) {
	for in, want := range map[string]string{
		"/data/data/com.termux/files/usr/etc/webui/webui.conf": "/data/data/com.termux/files/usr/etc/webui/apps.d",
		"/webui.conf": "/apps.d",
		"webui.conf":  "./apps.d",
		"conf/w.conf": "conf/apps.d",
	} {
		if got := AppsDir(in); got != want {
			t.Errorf("AppsDir(%q) = %q, want %q", in, got, want)
		}
	}
}
