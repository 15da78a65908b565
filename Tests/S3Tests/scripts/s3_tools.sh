#!/bin/bash
# rclone (copy + MD5-verified check, both ways) and s3cmd (mb/put/get/ls/del, multipart put)
# against the daemon in S3_ENDPOINT. Prints "N passed, N failed".
set -uo pipefail
host="${S3_ENDPOINT#http://}"
work="$S3_SCRATCH/tools"
rm -rf "$work" && mkdir -p "$work/src/a/b" "$work/src/c"
for i in 1 2 3 4 5; do head -c $((i * 40000)) /dev/urandom > "$work/src/a/f$i"; done
head -c $((20 << 20)) /dev/urandom > "$work/src/a/b/twenty-mib"
echo "ünïcödé" > "$work/src/c/ünïcödé name.txt"

# rclone reads the remote from the environment; a CA bundle set for HTTPS elsewhere breaks its plain-HTTP client.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG_SV_TYPE=s3 RCLONE_CONFIG_SV_PROVIDER=Other RCLONE_CONFIG_SV_REGION=us-east-1 \
    RCLONE_CONFIG_SV_ACCESS_KEY_ID="$S3_ACCESS_KEY" RCLONE_CONFIG_SV_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    RCLONE_CONFIG_SV_ENDPOINT="$S3_ENDPOINT" RCLONE_CONFIG_SV_FORCE_PATH_STYLE=true RCLONE_CONFIG=/dev/null
s3cmd=(s3cmd -c /dev/null --access_key="$S3_ACCESS_KEY" --secret_key="$S3_SECRET_KEY" --host="$host" --host-bucket="$host"
       --no-ssl --region=us-east-1 --multipart-chunk-size-mb=5)

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

check "rclone mkdir" rclone mkdir sv:rclone-bucket
check "rclone copy up" rclone copy "$work/src" sv:rclone-bucket/tree
check "rclone check (MD5) up" rclone check "$work/src" sv:rclone-bucket/tree
check "rclone copy down" rclone copy sv:rclone-bucket/tree "$work/back"
check "rclone check (MD5) down" rclone check sv:rclone-bucket/tree "$work/back"
check "identical after the round trip" diff -r "$work/src" "$work/back"
check "rclone purge" rclone purge sv:rclone-bucket

check "s3cmd mb" "${s3cmd[@]}" mb s3://s3cmd-bucket
check "s3cmd put" "${s3cmd[@]}" put "$work/src/a/f1" s3://s3cmd-bucket/dir/f1
check "s3cmd put multipart" "${s3cmd[@]}" put "$work/src/a/b/twenty-mib" s3://s3cmd-bucket/twenty-mib
check "s3cmd ls -r" bash -c "\"\${@}\" ls -r s3://s3cmd-bucket | grep -c s3cmd-bucket/ | grep -qx 2" _ "${s3cmd[@]}"
check "s3cmd get identical" bash -c "\"\${@}\" get --force s3://s3cmd-bucket/twenty-mib '$work/twenty.back' && cmp '$work/src/a/b/twenty-mib' '$work/twenty.back'" _ "${s3cmd[@]}"
check "s3cmd del" "${s3cmd[@]}" del s3://s3cmd-bucket/dir/f1 s3://s3cmd-bucket/twenty-mib
check "s3cmd rb" "${s3cmd[@]}" rb s3://s3cmd-bucket

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
