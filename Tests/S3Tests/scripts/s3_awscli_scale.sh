#!/bin/bash
# aws cli at the sizes issue 5 asks for, against a `mount -o s3=` daemon: `s3 sync` of a tree
# of 500 files both ways, `s3 cp` of a 200 MiB file (multipart: 25 parts of 8 MiB), `s3 mv`
# of it (a multipart copy), a SigV4 presigned URL fetched with curl, `s3 rm --recursive`.
# Each step is also checked through the FUSE mount in S3_MOUNTPOINT, at once.
# Prints "N passed, N failed".
set -uo pipefail
work="$S3_SCRATCH/awscli-scale"
rm -rf "$work" && mkdir -p "$work"
export AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE=/dev/null
# aws cli v1 presigns with SigV2 (which the daemon refuses) unless told otherwise.
aws configure set default.s3.signature_version s3v4
aws=(aws --endpoint-url "$S3_ENDPOINT")
mounted="$S3_MOUNTPOINT/scale"

# 20 directories of 25 files, 1 byte to 8 KiB, in one process (500 `head`s would be slow).
python3 - "$work/src" <<'EOF'
import os, random, sys
random.seed(5)
for d in range(20):
    os.makedirs(f"{sys.argv[1]}/d{d:02}")
    for f in range(25):
        with open(f"{sys.argv[1]}/d{d:02}/f{f:03}.bin", "wb") as out:
            out.write(os.urandom(random.randint(1, 8192)))
EOF
head -c $((200 << 20)) /dev/urandom > "$work/big.bin"

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
count_keys() { "${aws[@]}" s3 ls --recursive "$1" | wc -l; }

check "mb" "${aws[@]}" s3 mb s3://scale
check "sync up 500 files" "${aws[@]}" s3 sync --quiet "$work/src" s3://scale/tree
check "500 keys listed" test "$(count_keys s3://scale/tree/)" -eq 500
check "the tree through the mount" diff -r "$work/src" "$mounted/tree"
check "sync down identical" bash -c "\"\${@}\" s3 sync --quiet s3://scale/tree '$work/back' && diff -r '$work/src' '$work/back'" _ "${aws[@]}"
check "sync again uploads nothing" bash -c "test -z \"\$(\"\${@}\" s3 sync '$work/src' s3://scale/tree)\"" _ "${aws[@]}"

check "cp 200 MiB up" "${aws[@]}" s3 cp --quiet "$work/big.bin" s3://scale/big.bin
check "multipart ETag of 25 parts" bash -c "\"\${@}\" s3api head-object --bucket scale --key big.bin --query ETag --output text | grep -q -- '-25\"\$'" _ "${aws[@]}"
check "200 MiB through the mount" cmp "$work/big.bin" "$mounted/big.bin"
check "cp 200 MiB down identical" bash -c "\"\${@}\" s3 cp --quiet s3://scale/big.bin '$work/big.back' && cmp '$work/big.bin' '$work/big.back'" _ "${aws[@]}"
rm -f "$work/big.back"

check "mv 200 MiB" "${aws[@]}" s3 mv --quiet s3://scale/big.bin s3://scale/moved/big.bin
check "old key gone after mv" bash -c "! \"\${@}\" s3api head-object --bucket scale --key big.bin" _ "${aws[@]}"
check "old name gone from the mount" test ! -e "$mounted/big.bin"
check "moved object through the mount" cmp "$work/big.bin" "$mounted/moved/big.bin"

url=$("${aws[@]}" s3 presign s3://scale/tree/d07/f011.bin --expires-in 300)
check "presigned URL is SigV4" grep -q "X-Amz-Algorithm=AWS4-HMAC-SHA256" <<<"$url"
check "presigned GET with curl" bash -c "curl -sSf -o '$work/presigned.bin' '$url' && cmp '$work/src/d07/f011.bin' '$work/presigned.bin'"
check "tampered presigned URL refused" bash -c "test \"\$(curl -s -o /dev/null -w '%{http_code}' '${url/f011/f012}')\" = 403"

check "rm --recursive" "${aws[@]}" s3 rm --quiet --recursive s3://scale/tree
check "no keys left" test "$(count_keys s3://scale/tree/)" -eq 0
check "no files left in the mount" test "$(find "$mounted/tree" -type f | wc -l)" -eq 0
check "rb --force" "${aws[@]}" s3 rb --force s3://scale
check "bucket gone from the mount" test ! -e "$mounted"

rm -rf "$work"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
