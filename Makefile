# daz — see README.md. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOLANGCI_LINT_VERSION ?= v2.15.0
BENCHTIME ?= 1x
# templ's generator at the version of the templ runtime in go.mod, so the
# generated code always matches the library it calls.
TEMPL = $(GO) run github.com/a-h/templ/cmd/templ@$(shell $(GO) list -m -f '{{.Version}}' github.com/a-h/templ)

.PHONY: build run test lint bench fuzz migrate sandbox postgres clean generate generate-check

# A static binary: no libc or dynamic loader mapped (1.7 MB less resident),
# and it runs on any Linux of the same architecture.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/daz ./cmd/daz

# The web pages and the sandbox page are templ components (*.templ); their
# *_templ.go files are generated and checked in. Run after editing a .templ.
# Always from the repository root: the generated code names its source
# relative to -path.
generate:
	$(TEMPL) generate -log-level warn -path .

# Fails when a checked-in *_templ.go is not what its .templ generates.
generate-check:
	$(TEMPL) generate -check -log-level warn -path .

postgres:
	@bash .ci/ensure-postgres

# The demo: a local PostgreSQL, the CyTube sandbox and the daemon. With
# DAZ_CYTUBE_CHANNEL set it joins that channel on DAZ_CYTUBE_SERVER_URL instead.
run: build postgres
	@bash .ci/run-demo

test: postgres generate-check
	@bash .ci/ensure-chromium
	$(GO) test -race -count=1 -timeout 30m ./...

lint: generate-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v golangci-lint >/dev/null || $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" golangci-lint run --config .ci/golangci.yml ./...

bench: postgres
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime 60s -fuzzminimizetime 3s ./actors/connection/frame/

migrate: build postgres
	./bin/daz migrate

sandbox: build
	./bin/daz sandbox

clean:
	rm -rf bin data
