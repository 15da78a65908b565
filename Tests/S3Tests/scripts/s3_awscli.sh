#!/bin/bash
# aws cli smoke test: mb, cp, sync both ways, ls, mv, s3api head/list paging, rm --recursive,
# rb --force, against the daemon in S3_ENDPOINT. Prints "N passed, N failed".
set -uo pipefail
export AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws=(aws --endpoint-url "$S3_ENDPOINT")
work="$S3_SCRATCH/awscli"
rm -rf "$work" && mkdir -p "$work/src/sub/deeper"
for i in $(seq 1 30); do head -c $((i * 997)) /dev/urandom > "$work/src/file$i.bin"; done
echo "hello" > "$work/src/sub/hello.txt"
echo "deep" > "$work/src/sub/deeper/deep.txt"
head -c $((3 << 20)) /dev/urandom > "$work/src/sub/three-mib.bin"
head -c $((20 << 20)) /dev/urandom > "$work/twenty-mib.bin"  # over the cli's 8 MiB threshold: multipart

passed=0
failed=0
check() {  # check NAME COMMAND...
    local name=$1; shift
    if output=$("$@" 2>&1); then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"; echo "$output" | tail -20
    fi
}

check "mb" "${aws[@]}" s3 mb s3://cli-bucket
check "cp up" "${aws[@]}" s3 cp --quiet "$work/src/file1.bin" s3://cli-bucket/single.bin
check "cp down identical" bash -c "\"\${@}\" s3 cp s3://cli-bucket/single.bin '$work/single.bin' && cmp '$work/src/file1.bin' '$work/single.bin'" _ "${aws[@]}"
check "sync up" "${aws[@]}" s3 sync --quiet "$work/src" s3://cli-bucket/tree
check "ls shows the prefix" bash -c "\"\${@}\" s3 ls s3://cli-bucket/tree/ | grep -q 'PRE sub/'" _ "${aws[@]}"
check "ls recursive counts" bash -c "test \$(\"\${@}\" s3 ls --recursive s3://cli-bucket/tree/ | wc -l) -eq 33" _ "${aws[@]}"
check "sync down identical" bash -c "\"\${@}\" s3 sync s3://cli-bucket/tree '$work/back' && diff -r '$work/src' '$work/back'" _ "${aws[@]}"
check "sync again uploads nothing" bash -c "test -z \"\$(\"\${@}\" s3 sync '$work/src' s3://cli-bucket/tree)\"" _ "${aws[@]}"
check "multipart cp up" "${aws[@]}" s3 cp --quiet "$work/twenty-mib.bin" s3://cli-bucket/big/twenty.bin
check "multipart ETag" bash -c "\"\${@}\" s3api head-object --bucket cli-bucket --key big/twenty.bin | grep -q '\-3'" _ "${aws[@]}"
check "multipart cp down identical" bash -c "\"\${@}\" s3 cp --quiet s3://cli-bucket/big/twenty.bin '$work/twenty.back' && cmp '$work/twenty-mib.bin' '$work/twenty.back'" _ "${aws[@]}"
check "list-multipart-uploads empty" bash -c "test -z \"\$(\"\${@}\" s3api list-multipart-uploads --bucket cli-bucket --query Uploads --output text | grep -v None)\"" _ "${aws[@]}"
check "mv" "${aws[@]}" s3 mv s3://cli-bucket/single.bin s3://cli-bucket/moved/single.bin
check "head-object after mv" "${aws[@]}" s3api head-object --bucket cli-bucket --key moved/single.bin
check "old key gone after mv" bash -c "! \"\${@}\" s3api head-object --bucket cli-bucket --key single.bin" _ "${aws[@]}"
check "list-objects-v2 paging" bash -c "test \$(\"\${@}\" s3api list-objects-v2 --bucket cli-bucket --prefix tree/ --page-size 7 --query 'length(Contents)') -eq 33" _ "${aws[@]}"
check "list-objects v1 paging" bash -c "test \$(\"\${@}\" s3api list-objects --bucket cli-bucket --prefix tree/ --page-size 5 --query 'length(Contents)') -eq 33" _ "${aws[@]}"
check "copy-object" "${aws[@]}" s3api copy-object --bucket cli-bucket --key copied.txt --copy-source cli-bucket/tree/sub/hello.txt
check "rm recursive" "${aws[@]}" s3 rm --recursive s3://cli-bucket/tree
check "rb --force" "${aws[@]}" s3 rb --force s3://cli-bucket
check "bucket gone" bash -c "! \"\${@}\" s3api head-bucket --bucket cli-bucket" _ "${aws[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
