#!/usr/bin/env bash
# `make demo`: a 4+2 ShardVault vault on six directories, end to end.
# Creates the encrypted vault (init, status), mounts it with FUSE and uses it as a directory,
# then exercises the pool layer underneath: put, get, degraded read with two volumes gone,
# replace + heal, scrub, and fsck of the vault. Finally a fresh vault is left mounted and
# served over S3 by one daemon (both doors shown working), with how to use and stop it.
# Every step checks its result; any failure stops the demo with a non-zero exit.
#
# Usage: scripts/demo.sh PATH_TO_SHARDVAULT_BINARY
# Environment: SHARDVAULT_DEMO_DIR (default /tmp/shardvault-demo) is wiped and reused.
set -euo pipefail

SHARDVAULT=${1:?usage: scripts/demo.sh PATH_TO_SHARDVAULT_BINARY}
DEMO=${SHARDVAULT_DEMO_DIR:-/tmp/shardvault-demo}

[ -x "$SHARDVAULT" ] || { echo "demo: $SHARDVAULT is not an executable (run make build-release)" >&2; exit 1; }
case "$DEMO" in
    "" | "/" ) echo "demo: refusing to use '$DEMO' as the demo directory" >&2; exit 1 ;;
esac

if [ -t 1 ]; then BOLD=$'\e[1m'; DIM=$'\e[2m'; GREEN=$'\e[32m'; RED=$'\e[31m'; OFF=$'\e[0m'
else BOLD=""; DIM=""; GREEN=""; RED=""; OFF=""; fi

step=0
say()  { step=$((step + 1)); printf '\n%s== %d. %s%s\n' "$BOLD" "$step" "$*" "$OFF"; }
# The command line goes to stderr so that $(run …) captures only the command's own output.
run()  { printf '%s$ %s%s\n' "$DIM" "$*" "$OFF" >&2; "$@"; }
ok()   { printf '%s   ✓ %s%s\n' "$GREEN" "$*" "$OFF"; }
fail() { printf '%s   ✗ %s%s\n' "$RED" "$*" "$OFF" >&2; exit 1; }
trap 'status=$?; [ $status -eq 0 ] || printf "%sdemo FAILED (exit %d) at step %d; files are in %s%s\n" "$RED" "$status" "$step" "$DEMO" "$OFF" >&2' EXIT

sv() { run "$SHARDVAULT" "$@"; }

# A live vault left by an earlier demo is unmounted first (its daemon then exits).
if grep -q " $DEMO/live/mnt fuse" /proc/mounts; then "$SHARDVAULT" unmount "$DEMO/live/mnt"; fi
rm -rf "$DEMO"
mkdir -p "$DEMO"
SMALL_FILE=/usr/bin/bash; [ -f "$SMALL_FILE" ] || SMALL_FILE=/bin/sh
V=("$DEMO"/disk{0..5})

say "Create a 4+2 vault on six directories (any 2 may be lost)"
# A password file keeps the demo non-interactive; --kdf test keeps it fast (and is flagged).
PW="$DEMO/password"
( umask 077; printf 'demo password, not a secret\n' > "$PW" )
sv init --data 4 --parity 2 --kdf test --password-file "$PW" "${V[@]}"
for v in "${V[@]}"; do [ -f "$v/format.json" ] || fail "$v has no format.json"; done
ok "each volume got a format.json naming the vault, its own index and all its siblings"

say "Status needs no password: it shows the key derivation strength from the key file"
out=$(sv status "${V[@]}"); echo "$out"
grep -q '^key derivation: Argon2id test .*INSECURE' <<<"$out" || fail "status does not show the test KDF as INSECURE"
ok "the vault's KDF is recorded and reported (test: INSECURE, for demos and tests only)"

say "Mount the vault as a directory (FUSE) and use it like any other"
MNT="$DEMO/mnt"; mkdir -p "$MNT"
run "$SHARDVAULT" mount --foreground --password-file "$PW" "${V[@]}" "$MNT" &
DAEMON=$!
for _ in $(seq 100); do grep -q " $MNT fuse" /proc/mounts && break; sleep 0.1; done
grep -q " $MNT fuse" /proc/mounts || { kill "$DAEMON" 2>/dev/null; fail "the mount did not come up"; }
run mkdir -p "$MNT/docs"
run cp -r /usr/share/doc/bash /usr/share/doc/git "$MNT/docs/" 2>/dev/null || run cp -r /usr/share/doc/bash "$MNT/docs/"
run cp "$SMALL_FILE" "$MNT/bash.bin"
(cd "$MNT" && run ls -la . docs | head -20)
cmp "$SMALL_FILE" "$MNT/bash.bin" || fail "a file read back through the mount differs"
sv unmount "$MNT"
wait "$DAEMON" || fail "the mount daemon did not exit cleanly"
ok "files written through the mount are encrypted and erasure-coded across the six volumes; unmounted cleanly"

say "Store two real files: 8 MiB of random bytes (from --file) and /usr/bin/bash (from stdin)"
head -c $((8 << 20)) /dev/urandom > "$DEMO/random.bin"
SMALL=/usr/bin/bash; [ -f "$SMALL" ] || SMALL=/bin/sh
out=$(sv pool put --file "$DEMO/random.bin" "${V[@]}"); echo "$out"
ID=$(cut -d' ' -f1 <<<"$out")
out=$(run "$SHARDVAULT" pool put "${V[@]}" < "$SMALL"); echo "$out"
ID2=$(cut -d' ' -f1 <<<"$out")
[ "$(cut -d' ' -f2 <<<"$out")" = "$(stat -c %s "$SMALL")" ] || fail "stored length of $SMALL is wrong"
ok "objects $ID (random.bin) and $ID2 ($SMALL) stored"
printf '   shard files of %s (one per volume, each about a quarter of the object plus checksums):\n' "$ID"
for v in "${V[@]}"; do ls -l "$v/objects/${ID:0:2}/$ID" | awk '{printf "     %10d  %s\n", $5, $9}'; done

say "Read both back and compare byte for byte"
sv pool get "$ID" --output "$DEMO/random.out" "${V[@]}"
cmp "$DEMO/random.bin" "$DEMO/random.out" || fail "random.bin differs"
run "$SHARDVAULT" pool get "$ID2" "${V[@]}" > "$DEMO/small.out"
cmp "$SMALL" "$DEMO/small.out" || fail "$SMALL differs"
sv pool get "$ID" --range 4194300-4194309 "${V[@]}" > "$DEMO/range.out"
cmp <(tail -c +4194301 "$DEMO/random.bin" | head -c 10) "$DEMO/range.out" || fail "ranged read differs"
ok "identical (whole objects, and a 10-byte range across a stripe boundary)"

say "Lose two volumes: delete disk1 and disk4 entirely"
run rm -rf "${V[1]}" "${V[4]}"
ok "2 of 6 volume directories are gone"

say "Degraded read: the missing shards are rebuilt in memory from parity"
sv pool get "$ID" --output "$DEMO/random.degraded" "${V[@]}"
cmp "$DEMO/random.bin" "$DEMO/random.degraded" || fail "degraded read differs"
run "$SHARDVAULT" pool get "$ID2" "${V[@]}" > "$DEMO/small.degraded"
cmp "$SMALL" "$DEMO/small.degraded" || fail "degraded read of $SMALL differs"
ok "still identical with 2 volumes missing"

say "Status shows which volumes are missing"
sv status "${V[@]}"
missing=$("$SHARDVAULT" status --json "${V[@]}" | grep -c '"state" : "missing"') || true
[ "$missing" = 2 ] || fail "status should report 2 missing volumes, reported $missing"
ok "2 volumes reported missing"

say "Scrub finds the damage (exit status 1)"
set +e; run "$SHARDVAULT" scrub "${V[@]}"; rc=$?; set -e
[ $rc -eq 1 ] || fail "scrub should exit 1 on a degraded pool, exited $rc"
ok "scrub exit status 1: damage found"

say "Replace both lost volumes with new empty directories"
sv pool replace --index 1 "$DEMO/new1" "${V[@]}"
sv pool replace --index 4 "$DEMO/new4" "${V[@]}" "$DEMO/new1"
NEW=("${V[0]}" "$DEMO/new1" "${V[2]}" "${V[3]}" "$DEMO/new4" "${V[5]}")
ok "new1 and new4 carry the identities of volumes 1 and 4 (but no shards yet)"

say "Heal: rebuild every missing shard onto the new volumes"
sv heal "${NEW[@]}"
ok "heal exit status 0: every object is fully redundant again"

say "Scrub verifies every checksum of every shard"
sv scrub "${NEW[@]}"
ok "scrub exit status 0: healthy"

say "fsck unlocks the vault and checks it: the two raw pool objects are not vault files"
set +e; out=$(run "$SHARDVAULT" fsck --password-file "$PW" "${NEW[@]}"); rc=$?; set -e
echo "$out"
[ $rc -eq 1 ] || fail "fsck should exit 1 (orphan blocks found), exited $rc"
grep -q '^orphan blocks: *2 found, 0 removed' <<<"$out" || fail "fsck should find the 2 objects stored with pool put"
ok "the vault (key file, superblocks, checkpoint) survived; fsck --repair would remove the 2 orphans"

say "Read again from the healed pool, this time without disk0 and disk2"
run rm -rf "${V[0]}" "${V[2]}"
sv pool get "$ID" --output "$DEMO/random.healed" "${NEW[@]}"
cmp "$DEMO/random.bin" "$DEMO/random.healed" || fail "read after heal differs"
ok "identical: the rebuilt shards on new1 and new4 serve the read"

say "One daemon, two doors: a fresh vault mounted at $DEMO/live/mnt and served over S3"
LIVE="$DEMO/live"; LV=("$LIVE"/disk{0..5}); mkdir -p "$LIVE/mnt"
sv init --data 4 --parity 2 --kdf test --password-file "$PW" "${LV[@]}" 2>/dev/null
keys=$(sv s3-keys show --password-file "$PW" "${LV[@]}")
ACCESS=$(sed -n 's/^access key: //p' <<<"$keys"); SECRET=$(sed -n 's/^secret key: //p' <<<"$keys")
[ -n "$ACCESS" ] && [ -n "$SECRET" ] || fail "s3-keys show printed no key pair"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ENDPOINT="http://127.0.0.1:$PORT"
sv mount -o "s3=127.0.0.1:$PORT" --password-file "$PW" "${LV[@]}" "$LIVE/mnt"
export AWS_ACCESS_KEY_ID="$ACCESS" AWS_SECRET_ACCESS_KEY="$SECRET" AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
s3() { run aws --endpoint-url "$ENDPOINT" s3 "$@"; }
run mkdir -p "$LIVE/mnt/photos"
run cp "$SMALL_FILE" "$LIVE/mnt/photos/from-the-mount.bin"
s3 ls s3://photos/
s3 cp s3://photos/from-the-mount.bin "$DEMO/via-s3.bin" >/dev/null
cmp "$SMALL_FILE" "$DEMO/via-s3.bin" || fail "a file written through the mount reads back differently through S3"
s3 cp "$DEMO/random.bin" s3://photos/from-s3.bin >/dev/null
cmp "$DEMO/random.bin" "$LIVE/mnt/photos/from-s3.bin" || fail "an object PUT through S3 reads back differently through the mount"
run ls -l "$LIVE/mnt/photos"
ok "a file copied into the mount is an S3 object at once, and an S3 PUT is a file at once"

cat <<EOT

${BOLD}Demo complete.${OFF} Everything above is in $DEMO. ${BOLD}Still running:${OFF} the vault on
$LIVE/disk0…5 is mounted at $LIVE/mnt and served over S3 at $ENDPOINT by one daemon:

  ls $LIVE/mnt                       # any program can use the directory
  export AWS_ACCESS_KEY_ID=$ACCESS AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url $ENDPOINT s3 ls s3://photos/
  rclone, s3cmd, boto3, s3fs: the same endpoint and keys (docs/S3.md)
  $SHARDVAULT unmount $LIVE/mnt   # stops both doors

To try the rest by hand:

  SV=$SHARDVAULT
  \$SV init /tmp/sv/d{0..5}          # asks for a password twice; or --password-file FILE
  \$SV status /tmp/sv/d{0..5}
  mkdir -p /tmp/sv/mnt; \$SV mount -o s3=127.0.0.1:9000 /tmp/sv/d{0..5} /tmp/sv/mnt   # returns once mounted
  \$SV s3-keys show /tmp/sv/d{0..5}   # (before mounting) the S3 key pair
  \$SV unmount /tmp/sv/mnt
  id=\$(\$SV pool put /tmp/sv/d{0..5} < /usr/bin/bash | cut -d' ' -f1)
  \$SV pool get \$id /tmp/sv/d{0..5} | cmp - /usr/bin/bash
  rm -rf /tmp/sv/d1 /tmp/sv/d4; \$SV status /tmp/sv/d{0..5}
  \$SV pool replace --index 1 /tmp/sv/n1 /tmp/sv/d{0..5}
  \$SV pool replace --index 4 /tmp/sv/n4 /tmp/sv/d{0..5} /tmp/sv/n1
  \$SV heal /tmp/sv/d{0,2,3,5} /tmp/sv/n{1,4} && \$SV scrub /tmp/sv/d{0,2,3,5} /tmp/sv/n{1,4}

Volumes always come last, in any order. More: docs/CLI.md, docs/S3.md, or \$SV help <command>.
EOT
