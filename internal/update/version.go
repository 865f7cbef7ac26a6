package update

import "strings"

// CompareVersions orders two webui versions: -1 when a is older than b, 0
// when they are the same release, 1 when a is newer.
//
// Versions are Debian versions, as cmd/mkdeb makes them from git describe:
// 1.2.3, 1.2.3+4.gabc1234 (four commits after 1.2.3), 1.3.0~rc1 (before
// 1.3.0), 0.0.0~dev+abc1234 (no tag), optionally with an epoch ("1:") and a
// Debian revision ("-1"). A leading "v" is ignored. The comparison is
// dpkg's: digits compare as numbers, letters before other characters, and
// "~" before everything, even the end of the version. "dev" (a local build
// without a version) and "" are older than every release.
func CompareVersions(a, b string) int {
	a, b = normVersion(a), normVersion(b)
	switch {
	case a == b:
		return 0
	case a == "dev":
		return -1
	case b == "dev":
		return 1
	}
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if c := verrevcmp(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func normVersion(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if v == "" {
		return "dev"
	}
	return v
}

// splitVersion cuts [epoch:]upstream[-revision]. A missing epoch is "0".
func splitVersion(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if e, rest, ok := strings.Cut(v, ":"); ok && e != "" && strings.Trim(e, "0123456789") == "" {
		epoch, v = e, rest
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// order is dpkg's character weight: "~" sorts first (before the end of
// the string), then the end, then letters, then everything else.
func order(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	case c == 0:
		return 0
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of one version part.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i < len(a) || j < len(b) {
		diff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := order(at(a, i)), order(at(b, j))
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for at(a, i) == '0' {
			i++
		}
		for at(b, j) == '0' {
			j++
		}
		for isDigit(at(a, i)) && isDigit(at(b, j)) {
			if diff == 0 {
				diff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if isDigit(at(a, i)) {
			return 1
		}
		if isDigit(at(b, j)) {
			return -1
		}
		if diff != 0 {
			return sign(diff)
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
