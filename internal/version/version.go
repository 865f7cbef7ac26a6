// Package version holds the build's version, set at link time with
// -ldflags "-X github.com/termux-webui/webui/internal/version.Version=1.2.3".
package version

// Version is the release this binary was built from ("dev" for local builds).
var Version = "dev"
