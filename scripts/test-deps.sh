#!/bin/sh
# Installs what `make test` needs on a fresh Debian machine: staticcheck (Go
# module proxy) and the Debian packages the integration tests drive. With
# CI=true a tool that cannot be installed fails the run; elsewhere the tests
# that need it skip and say why.
set -eu

STATICCHECK_VERSION=v0.8.2
APT_PACKAGES="shellcheck lintian qemu-user-static libc6-arm64-cross util-linux iproute2 strace dpkg curl chromium fonts-dejavu-core jupyter-notebook python3-ipykernel"

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/bin/tools"
mkdir -p "$tools"

fail() {
	echo "test-deps: $*" >&2
	if [ "${CI:-}" = "true" ]; then exit 1; fi
}

if [ ! -x "$tools/staticcheck" ]; then
	echo "test-deps: installing staticcheck $STATICCHECK_VERSION"
	GOBIN="$tools" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ||
		fail "could not install staticcheck"
fi

missing=""
for p in $APT_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test-deps: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq || fail "apt-get update failed"
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null || fail "could not install$missing"
	else
		fail "missing$missing (install them as root with apt-get; the tests that need them will skip)"
	fi
fi
exit 0
