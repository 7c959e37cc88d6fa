#!/usr/bin/env bash
# The main job on an embedded default: builds snapctl, generates a small web
# application's upload and archive directories, snapshots them into a local
# repository, changes a few files, snapshots again, restores both snapshots
# and proves them identical to what was captured. Everything lives under
# $DEMO_DIR (default: /tmp/snapctl-demo), which is recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build bash scripts/build.sh >/dev/null
SNAPCTL=$PWD/build/snapctl
DEMO=${DEMO_DIR:-/tmp/snapctl-demo}
rm -rf "$DEMO"
mkdir -p "$DEMO/app/upload" "$DEMO/app/archive/cache"
export SNAPCTL_REPO=$DEMO/repo SNAPCTL_KEY_DIR=$DEMO/keys

echo "== generating an embedded sample application under $DEMO/app"
for i in $(seq 1 200); do
  head -c $((RANDOM * 4)) /dev/urandom > "$DEMO/app/upload/image-$i.jpg"
done
for i in $(seq 1 50); do
  seq 1 $((i * 200)) | sed "s/^/invoice line $i /" > "$DEMO/app/archive/invoice-$i.txt"
done
echo "regenerable" > "$DEMO/app/archive/cache/index.bin"
ln -s ../upload/image-1.jpg "$DEMO/app/archive/logo.jpg"

echo "== snapctl init"
$SNAPCTL init
echo "== snapctl snapshot (first)"
$SNAPCTL snapshot --source upload="$DEMO/app/upload" --source archive="$DEMO/app/archive" \
  --exclude 'cache/**' --tag nightly
FIRST=$($SNAPCTL --json list | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)

echo "== changing 3 uploads, then snapshot (second: reads only what changed)"
for i in 1 2 3; do head -c 50000 /dev/urandom > "$DEMO/app/upload/image-$i.jpg"; done
$SNAPCTL snapshot --source upload="$DEMO/app/upload" --source archive="$DEMO/app/archive" \
  --exclude 'cache/**' --tag nightly
$SNAPCTL list
echo "== snapctl diff"
$SNAPCTL diff "$FIRST" latest

echo "== restore latest and compare with rsync"
$SNAPCTL restore latest --target "$DEMO/restore"
for s in upload archive; do
  # cache/** was excluded from the snapshot: exclude it from the comparison too.
  out=$(rsync -aHAXn --delete --itemize-changes --exclude='/cache/**' \
    "$DEMO/app/$s/" "$DEMO/restore/$s/")
  [[ -z "$out" ]] || { echo "restore of $s differs:"; echo "$out"; exit 1; }
done
echo "restored tree is identical to the source"

echo "== delta restore of the first snapshot over it (rewrites only changed chunks)"
$SNAPCTL restore "$FIRST" --delta --target "$DEMO/restore"
echo "== check --read-data"
$SNAPCTL check --read-data
$SNAPCTL stats
echo "demo finished: repository at $DEMO/repo"
