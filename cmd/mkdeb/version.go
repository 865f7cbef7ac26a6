package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// gitFunc runs git with args and returns its trimmed stdout.
type gitFunc func(args ...string) (string, error)

func gitIn(ctx context.Context, dir string) gitFunc {
	return func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
}

// debVersionRE is a Debian version without an epoch: an upstream part that
// starts with a digit, and an optional -revision.
var debVersionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$`)

// resolveVersion picks the package version: the --version flag, else
// $VERSION, else one derived from git. A leading "v" is dropped.
func resolveVersion(flagValue string, getenv func(string) string, git gitFunc) (string, error) {
	for _, v := range []struct{ from, value string }{{"--version", flagValue}, {"VERSION", getenv("VERSION")}} {
		if v.value == "" {
			continue
		}
		ver := strings.TrimPrefix(v.value, "v")
		if !debVersionRE.MatchString(ver) {
			return "", fmt.Errorf("%s %q is not a Debian version (wanted: a digit, then letters, digits and . + ~, such as 1.2.3 or 1.3.0~rc1)", v.from, v.value)
		}
		return ver, nil
	}
	return gitVersion(git)
}

// gitVersion turns `git describe --tags --always --dirty` into a Debian
// version that sorts the way the commits do:
//
//	v1.2.3                   -> 1.2.3
//	v1.2.3-4-gabc1234        -> 1.2.3+4.gabc1234   (4 commits after the tag)
//	v1.2.3-4-gabc1234-dirty  -> 1.2.3+4.gabc1234.dirty
//	v1.3.0-rc1               -> 1.3.0~rc1          (before 1.3.0)
//	abc1234 (no tag)         -> 0.0.0~dev+abc1234
//	(no commit, or no git)   -> 0.0.0~dev
func gitVersion(git gitFunc) (string, error) {
	desc, err := git("describe", "--tags", "--always", "--dirty")
	if err != nil {
		return "0.0.0~dev", nil
	}
	sha, _ := git("rev-parse", "--short", "HEAD")
	return describeToDebian(desc, sha)
}

var (
	describeRE = regexp.MustCompile(`^(.*?)(?:-([0-9]+)-g([0-9a-f]+))?(-dirty)?$`)
	commitRE   = regexp.MustCompile(`^[0-9a-f]{7,}$`)
)

func describeToDebian(desc, shortSHA string) (string, error) {
	m := describeRE.FindStringSubmatch(desc)
	if m == nil {
		return "", fmt.Errorf("cannot read git describe output %q", desc)
	}
	tag, ahead, commit, dirty := m[1], m[2], m[3], m[4] != ""
	var local []string // the +local part, dot separated
	var upstream string
	if tag == shortSHA || (shortSHA == "" && commitRE.MatchString(tag)) {
		// --always printed a commit: there is no tag.
		upstream = "0.0.0~dev"
		local = append(local, tag)
	} else {
		upstream = strings.ReplaceAll(strings.TrimPrefix(tag, "v"), "-", "~")
		if ahead != "" {
			local = append(local, ahead, "g"+commit)
		}
	}
	if dirty {
		local = append(local, "dirty")
	}
	v := upstream
	if len(local) > 0 {
		v += "+" + strings.Join(local, ".")
	}
	if !debVersionRE.MatchString(v) || strings.Contains(v, "-") {
		return "", fmt.Errorf("git tag %q does not make a Debian version (%q); tag as v1.2.3 or pass --version", tag, v)
	}
	return v, nil
}

// sourceDateEpoch is the time stamped on every file: $SOURCE_DATE_EPOCH,
// else the time of the commit being built. A tree without commits has no
// such time; then it is now, and the packages are not reproducible.
func sourceDateEpoch(getenv func(string) string, git gitFunc) (int64, string, error) {
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, "", fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time in seconds", s)
		}
		return n, "from the environment", nil
	}
	if s, err := git("log", "-1", "--format=%ct"); err == nil && s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, "commit time", nil
		}
	}
	return time.Now().Unix(), "no commit: the current time, so this build is not reproducible", nil
}
