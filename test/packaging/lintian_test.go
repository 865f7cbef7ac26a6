package packaging_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLintian runs lintian on the Linux packages. Any error fails; so does a
// warning whose tag nfpm.yaml does not name along with its reason.
func TestLintian(t *testing.T) {
	t.Parallel()
	lintian := tool(t, "lintian")
	dist := mainDebs(t)
	yaml, err := os.ReadFile(filepath.Join(repoRoot, "nfpm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tagLine := regexp.MustCompile(`^([EWXIPNO]): webui(?:-repo)?(?: \w+)?: (\S+)`)

	for _, name := range []string{"linux-amd64", "linux-arm64", "webui-repo"} {
		t.Run(name, func(t *testing.T) {
			deb := filepath.Join(dist, repoDebName("linux", v1))
			if name != "webui-repo" {
				deb = debPath(dist, v1, name)
			}
			cmd := exec.Command(lintian, "--tag-display-limit", "0", deb)
			cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Stderr = &out
			err := cmd.Run()
			t.Logf("lintian %s:\n%s", filepath.Base(deb), out.String())
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Fatalf("lintian: %v", err)
			}
			for _, line := range strings.Split(out.String(), "\n") {
				m := tagLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				switch m[1] {
				case "E":
					t.Errorf("lintian error: %s", line)
				case "W":
					if !bytes.Contains(yaml, []byte("#   "+m[2]+" ")) {
						t.Errorf("lintian warning without a reason in nfpm.yaml (add a comment line \"#   %s (warning): why\"): %s", m[2], line)
					}
				}
			}
		})
	}
}
