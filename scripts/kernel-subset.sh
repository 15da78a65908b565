#!/bin/bash
# Usage: scripts/kernel-subset.sh CACHE_DIR
#
# Prints the path of an uncompressed tar holding a fixed subset of the Debian kernel source
# (package linux-source-6.1): a few thousand real source files in deep directories, the
# workload of the FUSE "real programs" test and of the bench's untar/compile-tree runs.
# The one place that defines the subset, so the tests and the bench measure the same tree.
#
# Reading the whole .tar.xz takes ~20 s (tar has to decompress everything to find the
# members), so the subset is built once and cached in CACHE_DIR under a name that changes
# with the source tarball and the member list. Concurrent callers are safe: each builds in
# its own temporary name and renames into place.
#
# Environment: KERNEL_SOURCE_TARBALL overrides /usr/src/linux-source-6.1.tar.xz.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 CACHE_DIR" >&2
    exit 64
fi
cache_dir=$1
source_tarball=${KERNEL_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
top=linux-source-6.1

# ~3,600 files, ~40 MiB: many small headers (inline-sized and just above), some files of
# a few hundred KiB, three directory levels and more. Change it and every cache key moves.
members=(
    "$top/fs/ext4"
    "$top/fs/fuse"
    "$top/include/linux"
    "$top/kernel"
    "$top/mm"
)

if [ ! -r "$source_tarball" ]; then
    echo "kernel-subset: $source_tarball is missing; install the Debian package linux-source-6.1 (make setup)" >&2
    exit 2
fi

# The key: the source tarball's size and mtime plus the member list.
key=$( { stat -c '%s %Y' "$source_tarball"; printf '%s\n' "${members[@]}"; } | md5sum | cut -c1-12)
output="$cache_dir/kernel-subset-$key.tar"
if [ -f "$output" ]; then
    echo "$output"
    exit 0
fi

mkdir -p "$cache_dir"
work=$(mktemp -d "$cache_dir/.kernel-subset-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xJf "$source_tarball" -C "$work" "${members[@]}"
# Deterministic archive: sorted names, numeric root ownership; mtimes and modes as shipped.
tar -cf "$work/subset.tar" -C "$work" --sort=name --owner=0 --group=0 --numeric-owner "$top"
mv "$work/subset.tar" "$output"
echo "$output"
