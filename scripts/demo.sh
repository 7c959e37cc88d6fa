#!/usr/bin/env bash
# The main job on an embedded default: builds snapctl and replicad,
# generates a small web application's upload and archive directories,
# snapshots them into a local repository, replicates to a replicad on
# loopback, changes a few files, snapshots and replicates again, restores
# locally and (as a developer without the repository would) from the
# replica, and proves every restore identical to what was captured.
# Everything lives under $DEMO_DIR (default: /tmp/snapctl-demo), recreated.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build bash scripts/build.sh >/dev/null
SNAPCTL=$PWD/build/snapctl
REPLICAD=$PWD/build/replicad
DEMO=${DEMO_DIR:-/tmp/snapctl-demo}
rm -rf "$DEMO"
mkdir -p "$DEMO/app/upload" "$DEMO/app/archive/cache"
export SNAPCTL_REPO=$DEMO/repo SNAPCTL_KEY_DIR=$DEMO/keys
export SNAPCTL_IDENTITY_DIR=$DEMO/identity SNAPCTL_CACHE_DIR=$DEMO/cache

compare() {  # compare SRC DST: rsync finds no difference (cache/** was excluded)
  local out
  out=$(rsync -aHAXn --delete --itemize-changes --exclude='/cache/**' "$1/" "$2/")
  [[ -z "$out" ]] || { echo "restore of $1 differs:"; echo "$out"; exit 1; }
}

REPLICAD_PID=
trap '[[ -n $REPLICAD_PID ]] && kill $REPLICAD_PID 2>/dev/null; true' EXIT
start_replicad() {
  "$REPLICAD" serve --dir "$DEMO/replica" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
    2>"$DEMO/replicad.log" &
  REPLICAD_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DEMO/replicad.log" | head -1)
    HTTP=$(sed -n 's/.*http on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DEMO/replicad.log" | head -1)
    [[ -n $PORT && -n $HTTP ]] && return 0
    sleep 0.1
  done
  echo "replicad did not start:"; cat "$DEMO/replicad.log"; exit 1
}

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
$SNAPCTL info

echo "== replicad on loopback (the backup server), admitting this host's client key"
"$REPLICAD" init --dir "$DEMO/replica"
"$REPLICAD" allow --dir "$DEMO/replica" "$($SNAPCTL identity)"
start_replicad
$SNAPCTL peer add backup "replica://127.0.0.1:$PORT" \
  --fingerprint "$("$REPLICAD" fingerprint --dir "$DEMO/replica")"
echo "== snapctl snapshot (first)"
$SNAPCTL snapshot --source upload="$DEMO/app/upload" --source archive="$DEMO/app/archive" \
  --exclude 'cache/**' --tag nightly
FIRST=$($SNAPCTL --json list | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | head -1)
echo "== snapctl replicate (first: everything)"
$SNAPCTL replicate

echo "== changing 3 uploads, then snapshot --replicate (reads and sends only what changed)"
for i in 1 2 3; do head -c 50000 /dev/urandom > "$DEMO/app/upload/image-$i.jpg"; done
$SNAPCTL snapshot --source upload="$DEMO/app/upload" --source archive="$DEMO/app/archive" \
  --exclude 'cache/**' --tag nightly --replicate
$SNAPCTL status
$SNAPCTL list
echo "== snapctl diff"
$SNAPCTL diff "$FIRST" latest

echo "== restore latest and compare with rsync"
$SNAPCTL restore latest --target "$DEMO/restore"
for s in upload archive; do compare "$DEMO/app/$s" "$DEMO/restore/$s"; done
echo "restored tree is identical to the source"

echo "== a developer's machine: no repository, its own read-only identity, the exported key"
$SNAPCTL key export > "$DEMO/exported.key" 2>/dev/null
REPO_ID=$($SNAPCTL --json info | sed -n 's/.*"repository": "\([0-9a-f]*\)".*/\1/p')
DEV="env HOME=$DEMO/laptop SNAPCTL_IDENTITY_DIR=$DEMO/laptop/identity SNAPCTL_CACHE_DIR=$DEMO/laptop/cache SNAPCTL_REPO= $SNAPCTL"
"$REPLICAD" allow --dir "$DEMO/replica" "$($DEV identity)" --read-only --repo "$REPO_ID"
FROM="--from replica://127.0.0.1:$PORT/$REPO_ID --fingerprint $("$REPLICAD" fingerprint --dir "$DEMO/replica") --key-file $DEMO/exported.key"
$DEV restore latest $FROM --target "$DEMO/laptop/pim"
for s in upload archive; do compare "$DEMO/app/$s" "$DEMO/laptop/pim/$s"; done
echo "restore from the replica is identical to the source"
echo "== replica health and metrics"
curl -s "http://127.0.0.1:$HTTP/health" 2>/dev/null || true
curl -s "http://127.0.0.1:$HTTP/metrics" 2>/dev/null | grep -E '^replicad_(received_bytes|snapshots_committed)' || true
"$REPLICAD" list --dir "$DEMO/replica"

echo "== delta restore of the first snapshot over it (rewrites only changed chunks)"
$SNAPCTL restore "$FIRST" --delta --target "$DEMO/restore"
echo "== check --read-data"
$SNAPCTL check --read-data
$SNAPCTL stats
kill -TERM $REPLICAD_PID && wait $REPLICAD_PID || true
REPLICAD_PID=
echo "demo finished: repository at $DEMO/repo, replica at $DEMO/replica"
