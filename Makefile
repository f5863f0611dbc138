# mcpctl — see README.md. `make test` is the test command CI runs.
GO ?= go
PKGS := ./...
BIN := bin/mcpctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/mcpctl/mcpctl/internal/cli.version=$(VERSION)

.PHONY: build test vet fmt docs bench demo fuzz vault clean

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

# Regenerates the CLI reference in docs/cli from the command tree; run it
# after changing a command, flag or help text (a test fails until you do).
docs:
	$(GO) run ./internal/cli/docgen/cmd docs/cli

# Plan/apply/migration/drift at 1k and 10k secrets next to a raw baseline
# (docs/benchmarks.md). E.g. make bench BENCHFLAGS='-quick -out /tmp/bench.md';
# the 100k scale figures (not run by default, ~15 min):
# make bench BENCHFLAGS='-n 10000,100000 -runs 1 -out /tmp/bench-100k.md'
bench: vault
	GO=$(GO) $(GO) run ./internal/bench $(BENCHFLAGS)

# Runs every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME
# each, one at a time (go test -fuzz takes one target per run), starting
# from the committed seed corpus in testdata/fuzz. A failure leaves the
# crashing input in that package's testdata/fuzz/FuzzXxx: commit it.
# Minimising each new input is bounded (go's default, 60s per input, spent
# a whole short FUZZTIME minimising FuzzReadPlan's first find).
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 200x
fuzz:
	@set -e; n=0; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' cmd internal pkg | sort); do \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz: $$target in ./$$(dirname $$file) for $(FUZZTIME)"; \
			$(GO) test ./$$(dirname $$file) -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME); \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzz: $$n targets, $(FUZZTIME) each, no failure"

demo: vault build
	scripts/demo

clean:
	rm -rf bin
