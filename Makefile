# Persist — build, test, demo, benchmark.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/cuitty/persist/internal/cli.Version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: build test check bench demo install fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# The packages that run goroutines of their own: their tests run again
# under the race detector in make check.
RACE_PKGS := . ./internal/load/ ./internal/source/ ./internal/diff/ ./internal/cli/ ./internal/adapters/... ./internal/backoff/

# check: formatting, vet, staticcheck (pinned in go.mod as a tool), and the
# concurrent packages' tests under the race detector, before the tests.
check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)

test: build check
	$(GO) test -count=1 -timeout 20m ./...

bench: build
	./bench/run.sh

demo: build
	./scripts/demo.sh

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/...

# fuzz: every fuzz target of every package, FUZZTIME each (their seed
# corpora run in make test anyway).
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

clean:
	rm -rf $(BIN) demo
