# mcpctl — see README.md. `make test` is the test command CI runs.
GO ?= go
PKGS := ./...
BIN := bin/mcpctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/mcpctl/mcpctl/internal/cli.version=$(VERSION)

.PHONY: build test vet fmt bench demo fuzz vault clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mcpctl

# Builds (once, cached outside the repo) the real Vault server the tests use.
vault:
	@tools/vaultdev/build.sh >/dev/null

test: vault
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 40m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: vault
	$(GO) run ./internal/bench $(BENCHFLAGS)

fuzz:
	$(GO) test ./pkg/manifest -run '^$$' -fuzz FuzzLoad -fuzztime 30s
	$(GO) test ./pkg/plan -run '^$$' -fuzz FuzzReadPlan -fuzztime 30s

demo: vault build
	scripts/demo

clean:
	rm -rf bin
