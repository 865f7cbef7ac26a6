//go:build !webuitest

// Package testhooks adds routes that let the integration tests provoke what
// is otherwise hard to cause (panics, fatal errors, huge or slow responses).
// They exist only in binaries built with -tags webuitest; a release binary
// has none of them.
package testhooks

import (
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/termux-webui/webui/internal/platform"
)

// Routes is nil in release builds.
var Routes func(r *mux.Router, log logrus.FieldLogger)

// PlatformEnv returns e unchanged in release builds.
func PlatformEnv(e platform.Env) platform.Env { return e }

// LogFlushEvery is 0 (the default) in release builds.
func LogFlushEvery() time.Duration { return 0 }

// FreezeWatch is always on in release builds.
func FreezeWatch() bool { return true }
