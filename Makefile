# ShardVault — every set-up step lives here; `make demo` and `make test` are enough on a fresh Debian.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
# The last line: real programs the FUSE tests run in a mount (linux-source-6.1 is the
# tarball scripts/kernel-subset.sh cuts the untar workload from).
DEBIAN_PACKAGES := libfuse3-dev fuse3 libsodium-dev libssl-dev libisal-dev libxxhash-dev \
                   pkg-config \
                   rsync git python3 xz-utils linux-source-6.1
BENCH_PEER_PACKAGES := gocryptfs securefs cryfs

.PHONY: setup setup-bench build build-release test demo bench clean

# Installs only what is missing; runs apt-get update only when something must be installed.
setup:
	@scripts/install-packages.sh $(DEBIAN_PACKAGES)

setup-bench: setup
	@scripts/install-packages.sh $(BENCH_PEER_PACKAGES)

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

clean:
	rm -rf .build
