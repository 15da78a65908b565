#!/bin/bash
# An s3fs-fuse mount of the daemon's S3 endpoint (path-style, SigV4) used for a small untar:
# 240 files in 13 directories (one of them empty). The tree must come back identical through
# s3fs, and — since the daemon was started with `mount -o s3=` — through its own FUSE mount in
# S3_MOUNTPOINT at once. Prints "N passed, N failed"; s3fs is unmounted whatever happens.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work="$S3_SCRATCH/s3fs"
mnt="$work/mnt"
rm -rf "$work" && mkdir -p "$work/src" "$mnt"
printf '%s:%s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" > "$work/passwd"
chmod 600 "$work/passwd"
cleanup() {
    if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt"; fi
}
trap cleanup EXIT

python3 - "$work/src" <<'EOF'
import os, random, sys
random.seed(42)
root = sys.argv[1]
for d in range(12):
    directory = f"{root}/dir{d:02}" + ("/nested" if d % 4 == 0 else "")
    os.makedirs(directory)
    for f in range(20):
        with open(f"{directory}/file{f:02}.txt", "wb") as out:
            out.write(os.urandom(random.randint(0, 65536)))
os.makedirs(f"{root}/empty")
EOF
# The entries, not ".": s3fs cannot chmod its mount point (the bucket), on any S3 server.
tar -C "$work/src" -cf "$work/tree.tar" $(ls "$work/src")
PYTHONPATH="$here" python3 -c 'from s3common import *; ensure_bucket("untar")'

passed=0
failed=0
check() {  # check NAME COMMAND...
    local name=$1; shift
    local started=$SECONDS
    if output=$("$@" 2>&1); then
        passed=$((passed + 1)); echo "ok   $name ($((SECONDS - started)) s)"
    else
        failed=$((failed + 1)); echo "FAIL $name"; echo "$output" | tail -20
    fi
}

check "s3fs mounts the endpoint" s3fs untar "$mnt" -o "url=$S3_ENDPOINT,use_path_request_style,sigv4,endpoint=us-east-1,passwd_file=$work/passwd,retries=1,dbglevel=warn"
check "s3fs is mounted" mountpoint -q "$mnt"
# -m and --no-same-owner: no utime/chown per file (each a CopyObject onto itself through s3fs).
check "untar into s3fs" tar -C "$mnt" -xf "$work/tree.tar" -m --no-same-owner
check "the tree through s3fs" diff -r "$work/src" "$mnt"
check "the tree through the vault's own mount" diff -r "$work/src" "$S3_MOUNTPOINT/untar"
check "240 files in the vault" test "$(find "$S3_MOUNTPOINT/untar" -type f | wc -l)" -eq 240
check "rm -r through s3fs" rm -r "$mnt/dir03"
check "gone from the vault's mount" test ! -e "$S3_MOUNTPOINT/untar/dir03/file00.txt"
check "s3fs unmounts" fusermount3 -u "$mnt"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
