# Persist — build, test, demo, benchmark.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/cuitty/persist/internal/cli.Version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: build test check bench demo install fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# check: formatting and vet, before the tests.
check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: build check
	$(GO) test -count=1 -timeout 20m ./...

bench: build
	./bench/run.sh

demo: build
	./scripts/demo.sh

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCanonical$$' -fuzztime $(FUZZTIME) ./internal/record/
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./internal/record/

clean:
	rm -rf $(BIN) demo
