# Persist — build, test, demo, benchmark.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/cuitty/persist/internal/cli.Version=$(VERSION)
FUZZTIME ?= 30s
PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man

.PHONY: build test check bench demo install fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# The packages that run goroutines of their own: their tests run again
# under the race detector in make check.
RACE_PKGS := . ./internal/load/ ./internal/record/ ./internal/source/ ./internal/diff/ ./internal/cli/ ./internal/adapters/... ./internal/backoff/

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

# install: the binaries into $(GOBIN) (go install's place), and a man page
# per binary into $(MANDIR)/man1, printed by the binary itself from the
# grammar its --help comes from.
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/...
	mkdir -p $(DESTDIR)$(MANDIR)/man1
	gobin="$$($(GO) env GOBIN)"; [ -n "$$gobin" ] || gobin="$$($(GO) env GOPATH)/bin"; \
	for c in cmd/*/; do t=$$(basename $$c); "$$gobin/$$t" --man > $(DESTDIR)$(MANDIR)/man1/$$t.1 || exit 1; done

# fuzz: every fuzz target of every package, FUZZTIME each (their seed
# corpora run in make test anyway).
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

clean:
	rm -rf $(BIN) demo
