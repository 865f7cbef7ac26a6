package paths

import "testing"

func TestDefaults(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		euid int
		want Paths
	}{
		{"termux", map[string]string{"TERMUX_VERSION": "0.118.1", "PREFIX": "/data/data/com.termux/files/usr", "HOME": "/data/data/com.termux/files/home"}, 10190,
			Paths{Kind: Termux, Prefix: TermuxPrefix, ConfigFile: TermuxPrefix + "/etc/webui/webui.conf", StateDir: TermuxPrefix + "/var/lib/webui",
				LogDir: TermuxPrefix + "/var/log/webui", RunDir: TermuxPrefix + "/var/run", TempDir: TermuxPrefix + "/tmp"}},
		{"termux without TERMUX_VERSION", map[string]string{"PREFIX": "/data/data/com.termux/files/usr/"}, 10190,
			Paths{Kind: Termux, Prefix: TermuxPrefix, ConfigFile: TermuxPrefix + "/etc/webui/webui.conf", StateDir: TermuxPrefix + "/var/lib/webui",
				LogDir: TermuxPrefix + "/var/log/webui", RunDir: TermuxPrefix + "/var/run", TempDir: TermuxPrefix + "/tmp"}},
		{"root", map[string]string{"HOME": "/root"}, 0,
			Paths{Kind: System, ConfigFile: "/etc/webui/webui.conf", StateDir: "/var/lib/webui", LogDir: "/var/log/webui", RunDir: "/run/webui", TempDir: "/tmp"}},
		{"user xdg", map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "/s", "XDG_CONFIG_HOME": "/c", "XDG_RUNTIME_DIR": "/run/user/1000", "TMPDIR": "/t"}, 1000,
			Paths{Kind: User, ConfigFile: "/c/webui/webui.conf", StateDir: "/s/webui", LogDir: "/s/webui/log", RunDir: "/run/user/1000/webui", TempDir: "/t"}},
		{"user bare", map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "relative"}, 1000,
			Paths{Kind: User, ConfigFile: "/home/u/.config/webui/webui.conf", StateDir: "/home/u/.local/state/webui", LogDir: "/home/u/.local/state/webui/log", RunDir: "/home/u/.local/state/webui/run", TempDir: "/tmp"}},
	}
	for _, c := range cases {
		got := Defaults(func(k string) string { return c.env[k] }, c.euid)
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		if got.Kind == Termux && (got.TempDir == "/tmp" || got.StateDir[:5] == "/tmp/") {
			t.Errorf("%s: /tmp on Termux", c.name)
		}
	}
}
