# webui — see README.md. `make run` runs webui on its defaults; `make test`
# installs what the tests need and runs every check.

GO       ?= go
PKG      := github.com/termux-webui/webui
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null | sed 's/^v//' || echo dev)
LDFLAGS  := -s -w -X $(PKG)/internal/version.Version=$(VERSION)
TOOLS    := $(CURDIR)/bin/tools
export CGO_ENABLED ?= 0

.PHONY: build run test fuzz lint deps deb bench clean gen

# The console's gzip copies (web/gz), committed; this refreshes them after
# an edit to web/ (the web tests fail while they are stale).
gen:
	$(GO) generate ./web

build: gen
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/webui ./cmd/webui

run: build
	./bin/webui serve

deps:
	./scripts/test-deps.sh

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags webuitest ./...
	$(TOOLS)/staticcheck ./...
	$(TOOLS)/staticcheck -tags webuitest ./...
	@if command -v shellcheck >/dev/null; then shellcheck scripts/*.sh .ci/run; \
	elif [ "$$CI" = true ]; then echo "shellcheck missing"; exit 1; else echo "shellcheck missing: skipped"; fi

# The race detector needs cgo.
test: gen lint
	CGO_ENABLED=1 $(GO) test -race -timeout 14m ./...
	$(MAKE) --no-print-directory fuzz

# Each fuzz target for FUZZTIME (a few seconds in `make test`; longer on
# demand: make fuzz FUZZTIME=10m).
FUZZTIME ?= 2s
FUZZ     := internal/config:FuzzParse internal/config:FuzzSetKey \
            internal/server:FuzzHostAllowed internal/server:FuzzSameOrigin \
            internal/auth:FuzzVerifySession internal/diag:FuzzParseEvent \
            internal/apps:FuzzParseApp internal/apps:FuzzNames \
            internal/apps/proxy:FuzzMatch internal/apps/proxy:FuzzRewriteLocation
FUZZ     += internal/health:FuzzParseAddr internal/health:FuzzAppendIndented internal/logging:FuzzStamp \
            internal/logging:FuzzEntryLine internal/jsonfast:FuzzAppend
# A failure that wrote a failing input fails at once; any other (the fuzz
# engine's own worker trouble on a loaded machine) prints why and gets one
# more try, which must pass.
fuzz:
	@set -e; out=$$(mktemp); trap 'rm -f $$out' EXIT; for t in $(FUZZ); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		run() { $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/ >$$out 2>&1; }; \
		if ! run; then \
			cat $$out; \
			if grep -q 'Failing input written to' $$out; then exit 1; fi; \
			echo "fuzz $${t#*:}: no failing input was written; once more"; \
			run || { cat $$out; exit 1; }; \
		fi; \
	done

# Every .deb (Termux aarch64/arm/x86_64/i686, Linux amd64/arm64) into dist/.
# APT_PUBKEY=apt.pub.gpg also builds webui-repo (Termux and Debian), which
# adds the apt repository at REPO_URL (default: the project's) to apt.
deb: gen
	$(GO) run ./cmd/mkdeb --dist dist $(if $(filter command line environment,$(origin VERSION)),--version $(VERSION)) \
		$(if $(APT_PUBKEY),--apt-pubkey $(APT_PUBKEY)) $(if $(REPO_URL),--repo-url $(REPO_URL))

# Benchmarks against peers (about 17 minutes; not part of `make test`).
bench:
	$(GO) run ./bench/cmd/webui-bench -out BENCHMARKS.md

clean:
	rm -rf bin dist
