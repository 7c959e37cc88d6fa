#!/usr/bin/env bash
# Makes tests/compat/v1: a small repository written by format version 1
# (config, key file, packs with compressed, raw and delta entries, snapshot
# objects; no index/, which every open rebuilds) with its key file and what
# its snapshots must restore to. Run once per released format version with
# that version's snapctl; never regenerate an existing directory: newer
# code must keep reading these bytes.
#   bash tests/compat/make_v1.sh build/snapctl
set -euo pipefail
BIN=$(realpath "${1:?usage: make_v1.sh PATH-TO-SNAPCTL}")
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/v1
[ -e "$OUT" ] && { echo "$OUT exists: golden files are never regenerated" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export SNAPCTL_KEY_DIR=$W/keys SNAPCTL_IDENTITY_DIR=$W/identity SNAPCTL_CACHE_DIR=$W/cache
unset SNAPCTL_PASSWORD
src=$W/src/site
mkdir -p "$src/img" "$src/empty-dir" "$src/deep/a/b/c"
printf 'hello compat\n' > "$src/index.html"
head -c 300000 /dev/urandom > "$src/img/logo.bin"      # incompressible: stored raw
seq 1 40000 > "$src/numbers.txt"                        # compressible
printf 'x' > "$src/deep/a/b/c/leaf"
ln -s index.html "$src/link"
ln "$src/numbers.txt" "$src/hard"
: > "$src/empty"
chmod 0640 "$src/numbers.txt"
chmod 0750 "$src/deep"
find "$src" -mindepth 1 -exec touch -h -d '2025-01-02 03:04:05.123456789 UTC' {} +
dump1='seq 1 60000 | sed "s/^/INSERT INTO t VALUES (/;s/$/);/"'
dump2='seq 1 60000 | sed "s/^/INSERT INTO t VALUES (/;s/$/);/;s/^INSERT INTO t VALUES (3000);/INSERT INTO t VALUES (-3000);/"'
R=$W/repo
"$BIN" --repo "$R" init > /dev/null
"$BIN" --repo "$R" --json snapshot --source "site=$src" --dump "db=$dump1" --time 2025-01-02T03:00:00Z > "$W/s1.json"
bash "$HERE/listing.sh" "$src" > "$W/expected-1.txt"
echo 'changed' >> "$src/index.html"
touch -h -d '2025-01-03 03:04:05 UTC' "$src/index.html"
"$BIN" --repo "$R" --json snapshot --source "site=$src" --dump "db=$dump2" --time 2025-01-03T03:00:00Z > "$W/s2.json"
"$BIN" --repo "$R" check --read-data > /dev/null
mkdir -p "$OUT"
cp -a "$R" "$OUT/repo"
rm -rf "$OUT/repo/index" "$OUT/repo/locks"/*
cp "$SNAPCTL_KEY_DIR"/*.key "$OUT/user.key"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/s1.json" > "$OUT/snapshot-1.id"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/s2.json" > "$OUT/snapshot-2.id"
cp "$W/expected-1.txt" "$OUT/expected-1.txt"
bash "$HERE/listing.sh" "$src" > "$OUT/expected-2.txt"
bash -c "$dump1" | sha256sum | cut -d' ' -f1 > "$OUT/dump-1.sha256"
bash -c "$dump2" | sha256sum | cut -d' ' -f1 > "$OUT/dump-2.sha256"
du -sh "$OUT"
