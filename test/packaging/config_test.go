package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestShippedConfig checks the webui.conf each family ships: every setting
// is commented out, and uncommented as shown it is a config the real binary
// accepts, with the defaults the comments promise.
func TestShippedConfig(t *testing.T) {
	t.Parallel()
	require(t, runtime.GOOS == "linux" && runtime.GOARCH == "amd64", "runs the linux-amd64 binary; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	tool(t, "dpkg-deb")
	dist := mainDebs(t)
	bin := filepath.Join(dist, "webui-linux-amd64")
	shown := regexp.MustCompile(`(?m)^#([a-z_]+) =(?: (.*))?$`)

	for _, name := range []string{"linux-amd64", "termux-x86_64"} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			output(t, "dpkg-deb", "-x", debPath(dist, v1, name), root)
			prefix, env := "", []string{"HOME=" + root, "PATH=/usr/bin:/bin"}
			if strings.HasPrefix(name, "termux") {
				prefix = termuxPrefix
				env = append(env, "TERMUX_VERSION=0.118.0", "PREFIX="+termuxPrefix)
			}
			shipped, err := os.ReadFile(filepath.Join(root, prefix, "etc/webui/webui.conf"))
			if err != nil {
				t.Fatal(err)
			}
			text := string(shipped)
			for i, line := range strings.Split(text, "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					t.Errorf("line %d is not commented out: %q", i+1, line)
				}
			}
			keys := shown.FindAllStringSubmatch(text, -1)
			if len(keys) < 16 {
				t.Fatalf("only %d settings shown", len(keys))
			}
			for _, want := range []string{"state_dir = " + prefix + "/var/lib/webui", "log_dir = " + prefix + "/var/log/webui"} {
				if !strings.Contains(text, "#"+want+"\n") {
					t.Errorf("no %q line", want)
				}
			}

			// Uncommented, it must load, and change nothing.
			active := shown.ReplaceAllString(text, "$1 = $2")
			file := filepath.Join(root, "webui.conf")
			if err := os.WriteFile(file, []byte(active), 0o644); err != nil {
				t.Fatal(err)
			}
			byDefault := effective(t, bin, env, filepath.Join(root, prefix, "etc/webui/webui.conf"))
			uncommented := effective(t, bin, env, file)
			for _, k := range keys {
				key := k[1]
				got, ok := uncommented[key]
				if !ok {
					t.Errorf("webui config does not show %s", key)
					continue
				}
				if !strings.HasPrefix(got.source, "file") {
					t.Errorf("%s: source %q, want the config file", key, got.source)
				}
				dir := strings.HasSuffix(key, "_dir")
				if dir && prefix == "" && os.Geteuid() >= 1000 {
					continue // an ordinary user's defaults are XDG paths, not the service's
				}
				if def := byDefault[key]; got.value != def.value {
					t.Errorf("%s: the shipped comment says %q, the default is %q", key, got.value, def.value)
				}
			}
		})
	}
}

type setting struct{ value, source string }

// effective runs `webui config` and reads its "key = value  # source" lines.
func effective(t *testing.T, bin string, env []string, conf string) map[string]setting {
	t.Helper()
	cmd := exec.Command(bin, "config", "--config", conf)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("webui config --config %s: %v\n%s", conf, err, out)
	}
	line := regexp.MustCompile(`(?m)^([a-z_]+)\s*=\s*(.*?)\s*#\s*(\S+)\s*$`)
	m := map[string]setting{}
	for _, l := range line.FindAllStringSubmatch(string(out), -1) {
		m[l[1]] = setting{l[2], l[3]}
	}
	if len(m) == 0 {
		t.Fatalf("cannot read the output of webui config:\n%s", out)
	}
	return m
}
