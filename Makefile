# kraftlab: build, the main job (a 3-node lab with a smoke check), and the tests.
BIN := bin/kraftlab
GO  ?= go

.PHONY: build deps lab lab-down test test-short vet cross fuzz bench bench-growth bench-gotest clean

build:
	@echo "Building $(BIN) (the first build also downloads the Go modules it needs; later ones take seconds)"
	$(GO) build -o $(BIN) ./cmd/kraftlab

# Java 17+ and Maven, installed when missing (Debian/Ubuntu, needs root or sudo).
deps:
	scripts/install-deps

# The main job: a 3-node KRaft lab up, topic kraft-test created, smoke check passed.
lab: deps build
	$(BIN) up --nodes 3 --no-hints
	$(BIN) topic create kraft-test --if-not-exists
	$(BIN) smoke --topic kraft-test

lab-down: build
	$(BIN) down

vet: cross
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above" && exit 1)
	$(GO) vet ./...
	cd examples/gotest && $(GO) vet ./...

# macOS builds from any machine: process and port lookups differ per system
# (cluster/internal/proc), so both Mac architectures must compile and vet clean.
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=amd64 $(GO) build ./...
	GOOS=darwin $(GO) vet ./...

# Unit tests only: no JVM, seconds.
test-short:
	$(GO) test -short -count=1 ./...

# Everything: vet, unit tests, a short fuzz run, and the end-to-end suite on real
# brokers: the command's (e2e), kafkatest's own, and the Go test example module's.
test: deps vet
	$(GO) test -count=1 -short ./...
	$(MAKE) fuzz
	$(GO) test -count=1 -timeout 45m -v ./e2e/
	$(GO) test -count=1 -timeout 15m ./cluster/kafkatest/
	cd examples/gotest && $(GO) test -count=1 -timeout 10m ./...

# Budgets are counts of inputs, not durations: a duration's deadline can race the
# workers' last inputs in Go's fuzz coordinator (golang/go#75804, fixed in Go 1.27)
# and fail a run that found nothing. Each takes 5 to 15 s on 2 cores.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzRenderOverride -fuzztime 100000x ./cluster/
	$(GO) test -run '^$$' -fuzz '^FuzzParseStat$$' -fuzztime 200000x ./cluster/internal/proc/
	$(GO) test -run '^$$' -fuzz '^FuzzParseProcargs2$$' -fuzztime 200000x ./cluster/internal/proc/

# Benchmarks on real JVMs (about 18 minutes; see BENCHMARKS.md): up-time against the
# tutorial and bare JVMs, produce throughput against Kafka's own producer
# benchmark, then what kafkatest costs a Go test against kfake. Each prints a JSON
# object as its last line. Quick check:
#   make bench BENCH_UP_FLAGS="--runs 1" BENCH_PRODUCE_FLAGS="--bytes 100MB --warmup 0" BENCH_GOTEST_FLAGS="--runs 1"
bench: deps build
	KRAFTLAB=$(CURDIR)/$(BIN) scripts/bench-up $(BENCH_UP_FLAGS)
	KRAFTLAB=$(CURDIR)/$(BIN) scripts/bench-produce $(BENCH_PRODUCE_FLAGS)
	scripts/bench-gotest $(BENCH_GOTEST_FLAGS)

# How up, down, restart and memory grow with the node count (N = 1, 3, 5, 9; run
# it alone on the machine: 9 JVMs at once).
bench-growth: deps build
	KRAFTLAB=$(CURDIR)/$(BIN) scripts/bench-growth $(BENCH_GROWTH_FLAGS)

# The kafkatest benchmark alone.
bench-gotest: deps
	scripts/bench-gotest $(BENCH_GOTEST_FLAGS)

clean:
	rm -rf bin
