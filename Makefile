# 알리미 (allimi) build, test and demo.
#
#   make deps     install Debian packages and Go modules (scripts/deps.sh)
#   make build    bin/allimi, bin/allimi-kiosk (cgo, Fyne), bin/allimi-voice (cgo, sherpa-onnx)
#                 and bin/nats-server (the pinned Go module, for a clustered broker)
#   make test     deps, build, go vet, go test (unit and end-to-end)
#   make bench    deps, build, then writes BENCHMARKS.md
#   make demo     deps, build, then central + one kiosk window
#   make clean    remove bin/, the demo's data and benchmark leftovers
#
# The first cgo build of Fyne (GLFW, OpenGL) takes about 4 minutes on 2 cores;
# later builds reuse Go's build cache (~/.cache/go-build), which clean keeps.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# deps must finish before anything builds; go parallelises builds itself.
.NOTPARALLEL:
.DEFAULT_GOAL := build

GO       ?= go
BIN      := $(CURDIR)/bin
DEMO_DIR ?= .demo
TEST_TIMEOUT ?= 20m

# The end-to-end tests in ./tests find the binaries here.
export ALLIMI_BIN := $(BIN)

# A UTF-8 locale when none is set: en_US.UTF-8 if the machine has it,
# otherwise C.UTF-8 (Debian always has that one).
ifneq ($(filter-out C POSIX,$(LANG)),)
else
  LANG := $(if $(shell locale -a 2>/dev/null | grep -ix 'en_US.utf-\?8'),en_US.UTF-8,C.UTF-8)
  export LANG
endif

.PHONY: all deps build build-allimi build-kiosk build-voice build-nats vet test bench demo clean screenshots fuzz package

all: build

deps:
	bash scripts/deps.sh

build: build-allimi build-kiosk build-voice build-nats

# bin/allimi is built with cgo for `consult --wav` and `voice check-model`:
# they run Silero VAD and the speech recogniser through sherpa-onnx, whose
# libsherpa-onnx-c-api.so and libonnxruntime.so the binary finds by the rpath
# the Go module sets (the module cache). Everything else in it is pure Go;
# CGO_ENABLED=0 still builds it, and then those commands say cgo is missing.
build-allimi:
	@mkdir -p $(BIN)
	CGO_ENABLED=1 $(GO) build -o $(BIN)/allimi ./cmd/allimi

build-kiosk:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/allimi-kiosk ./cmd/allimi-kiosk

# bin/allimi-voice runs the kiosk's voice models (Silero VAD, the speech
# recogniser) through sherpa-onnx for the kiosk, which finds it beside
# itself: a model sherpa-onnx cannot use ends this process, not the kiosk,
# and the kiosk does not carry onnxruntime (7 MiB of RSS at start). It needs
# libsherpa-onnx-c-api.so and libonnxruntime.so, found like bin/allimi's.
build-voice:
	@mkdir -p $(BIN)
	CGO_ENABLED=1 $(GO) build -o $(BIN)/allimi-voice ./cmd/allimi-voice

# bin/nats-server is the NATS server (JetStream, an MQTT listener) of a
# national deployment, at the version go.mod pins as a tool: Debian's 2.9.10
# crashes on a configuration reload, which is how a new kiosk reaches the
# cluster. `allimi central nats-config` writes its configuration.
build-nats:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2

vet:
	$(GO) vet ./...

test: deps build vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

bench: deps build
	$(GO) test -run '^$$' -bench 'Match|Import|Decode|Encode' -benchmem -count 1 ./subsidy/ | tee BENCHMARKS.subsidy.tmp
	$(GO) run ./internal/pgtest/pgrun $(BIN)/allimi bench report --out BENCHMARKS.md --go-bench BENCHMARKS.subsidy.tmp --store '{store}'
	rm -f BENCHMARKS.subsidy.tmp

# Every decoder at a trust boundary, each for FUZZTIME. A failing input is
# written to the package's testdata/fuzz and fails `make test` until fixed.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./sync/wire:FuzzDecodeEvent ./sync/wire:FuzzDecodeAck ./sync/wire:FuzzDecodeRequest ./sync/catalog:FuzzDecodeManifest \
	./central:FuzzDecodeNotificationRequest ./central:FuzzStoredRecords \
	./central:FuzzReceipts ./central:FuzzEnrolRequest ./central/channel:FuzzProviderResponse \
	./kiosk:FuzzDecodeEnrolAnswer \
	./subsidy:FuzzProfileMatch ./subsidy:FuzzDecodeCatalog ./subsidy:FuzzImportPages ./subsidy:FuzzFetchedPage \
	./consult:FuzzSearch ./consult:FuzzLoadKB ./voice:FuzzNormalize ./voice:FuzzParseWAV ./voice:FuzzInspectONNX

fuzz: deps
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# Debian packages of central and the kiosk, with their systemd units, in dist/.
package: deps build
	BIN=$(BIN) bash scripts/package.sh

demo: deps build
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) bash scripts/demo.sh

# Every kiosk screen in every language, to docs/screenshots/{lang}/{screen}.png.
# Rendered by Fyne's software renderer (the test driver): no display, no Xvfb.
screenshots: build-kiosk
	$(BIN)/allimi-kiosk --screenshots docs/screenshots

clean:
	rm -rf $(BIN) $(DEMO_DIR) kiosk-data dist
	rm -f BENCHMARKS.md.tmp BENCHMARKS.*.tmp BENCHMARKS.md.*.tmp
