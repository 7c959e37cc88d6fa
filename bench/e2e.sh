#!/usr/bin/env bash
# End-to-end benchmark: snapctl against restic and borg (and the limits of
# tar | zstd, a bare stat walk, cp -a) on generated data, side by side.
#
#   bash bench/e2e.sh                        # SCALE=1.0 RUNS=3
#   SCALE=0.1 RUNS=1 bash bench/e2e.sh       # a quick look
#
# Data (bench/e2e_data.py, deterministic from SEED), at SCALE 1.0: a source
# tree of 80,000 text files (200 B - 20 KB), 300 MiB of incompressible media
# files (0.3 - 5 MiB), a 500 MB mysqldump-like SQL dump and a second version
# of it with 1% of the rows changed in place and a few rows inserted.
#
# Each repetition (RUNS) runs every step for every tool before the next step,
# tools in turn (snapctl, restic, borg, then the limit; the order rotated by
# one each repetition), so that a neighbour's load hits all of them alike.
# Each snapshot starts with its input read into the page cache (untimed);
# every tool gets fresh repositories per repetition:
#   1 initial snapshot of tree + media        (+ tar -cf - | zstd -3 -T2)
#   2 unchanged re-snapshot                   (+ find -type f -printf '%s\n': lstat walk)
#   3 re-snapshot after changing 1% of the small files and a few media files
#   6 snapctl only: replication of that snapshot to a replicad on loopback
#     (the earlier snapshots are replicated after steps 1 and 2)
#   5 full restore of that snapshot into an empty directory (+ cp -a),
#     the page cache dropped before each one when /proc/sys/vm/drop_caches allows;
#     the restored trees are kept until the last repetition's are done (see "5.")
#   4 a dump streamed on stdin into a fresh repository, then its second version
# then once: snapctl's initial snapshot of a tree with SCALE_FILES (10) times the
# small files, for peak RSS.
# Wall time is measured around each command, CPU time (user + sys, children
# included) and peak RSS by /usr/bin/time; sizes by du -sb. The table
# (medians, ratios to snapctl) goes to stdout and bench/results-DATE.md.
#
# Settings (environment): SCALE (1.0), RUNS (3), SCALE_FILES (10; 0 skips the
# step), SEED (42), WORK_DIR (/tmp/snapctl-e2e), KEEP=1 keeps the work dir but
# the restored trees (and reuses its data next time), TOOLS ("snapctl restic borg"), VERIFY (1: the
# first repetition's restores are compared with the source by rsync
# --checksum; 0 skips), SNAPCTL / REPLICAD (default build/snapctl,
# build/replicad). Encryption everywhere: snapctl's default (AES-256-GCM, key
# file under the work dir), restic's default, borg repokey-blake2; compression
# zstd 3 for snapctl and borg, restic's default (auto).
set -euo pipefail

die() { echo "e2e.sh: $*" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${SCALE:-1.0}
RUNS=${RUNS:-3}
SCALE_FILES=${SCALE_FILES:-10}
SEED=${SEED:-42}
KEEP=${KEEP:-0}
VERIFY=${VERIFY:-1}
W=${WORK_DIR:-/tmp/snapctl-e2e}
snapctl_bin=${SNAPCTL:-$root/build/snapctl}
replicad_bin=${REPLICAD:-$root/build/replicad}
[[ -x $snapctl_bin ]] || die "no snapctl binary at $snapctl_bin (build it, or set SNAPCTL)"
[[ -x $replicad_bin ]] || die "no replicad binary at $replicad_bin (build it, or set REPLICAD)"

# --- what we need from Debian -------------------------------------------
need=()
command -v restic >/dev/null || need+=(restic)
command -v borg >/dev/null || need+=(borgbackup)
[[ -x /usr/bin/time ]] || need+=(time)
command -v rsync >/dev/null || need+=(rsync)
command -v zstd >/dev/null || need+=(zstd)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "== apt-get install -y ${need[*]}"
    apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
  else
    echo "e2e.sh: missing ${need[*]} (not root: skipping what they would measure)" >&2
  fi
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"
tools=()
for t in ${TOOLS:-snapctl restic borg}; do
  case $t in
  snapctl) tools+=(snapctl) ;;
  restic) command -v restic >/dev/null && tools+=(restic) || echo "restic not installed: skipped" ;;
  borg) command -v borg >/dev/null && tools+=(borg) || echo "borg not installed: skipped" ;;
  *) die "unknown tool $t" ;;
  esac
done

# --- the work dir: data, repositories, everything the tools write ---------
D=$W/data R=$W/repos T=$W/restore L=$W/logs
mkdir -p "$W" "$R" "$L" "$W/home" "$W/keys"
rm -rf "${R:?}"/* "$T" "$W/replica" "$W/cache"
mkdir -p "$W/cache"
# A private copy, so that a rebuild during the run cannot change or break it.
cp "$snapctl_bin" "$W/snapctl" && cp "$replicad_bin" "$W/replicad"
SNAP=$W/snapctl REPLICAD=$W/replicad
unset SNAPCTL_REPO SNAPCTL_CONFIG SNAPCTL_PASSWORD SNAPCTL_PASSWORD_FILE SNAPCTL_KEY_FILE
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE BORG_REPO
export HOME=$W/home SNAPCTL_KEY_DIR=$W/keys SNAPCTL_IDENTITY_DIR=$W/identity SNAPCTL_CACHE_DIR=$W/cache/snapctl
export RESTIC_PASSWORD=e2e-bench RESTIC_CACHE_DIR=$W/cache/restic
export BORG_PASSPHRASE=e2e-bench BORG_BASE_DIR=$W/home BORG_CACHE_DIR=$W/cache/borg
export BORG_CONFIG_DIR=$W/cache/borg-config BORG_SECURITY_DIR=$W/cache/borg-security
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_EXIT_CODES=legacy

REPLICAD_PID=
cleanup() {
  [[ -n $REPLICAD_PID ]] && kill "$REPLICAD_PID" 2>/dev/null && wait "$REPLICAD_PID" 2>/dev/null
  if [[ $KEEP != 1 ]]; then rm -rf "$W"; else rm -rf "$T"; fi
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
bytes() { du -sb "$1" | cut -f1; }
# Tool output is silenced (kept in $L); one progress line per measurement.
RESULTS=$W/results.tsv BYTES=$W/bytes.tsv META=$W/meta.txt
: >"$RESULTS"
: >"$BYTES"

# measure STEP TOOL REP CMD...: runs CMD (stdout and stderr to $L), appends
# "step tool rep wall user sys rss_kb" to results.tsv.
measure() {
  local step=$1 tool=$2 rep=$3 t0 t1 log
  shift 3
  log=$L/$step.$tool.$rep
  t0=$(now)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$log.time" "$@" >"$log.out" 2>"$log.err"; then
    tail -n 20 "$log.err" >&2
    die "$step/$tool (repetition $rep) failed: $*"
  fi
  t1=$(now)
  local e u s m
  read -r e u s m < <(tail -n 1 "$log.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$tool" "$rep" "$(secs "$t0" "$t1")" "$u" "$s" "$m" >>"$RESULTS"
  printf '   %-19s %-10s rep %s: %7s s wall, %6.2f s cpu, %5d MiB\n' "$step" "$tool" "$rep" \
    "$(secs "$t0" "$t1")" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" $((m / 1024))
}
# note STEP TOOL REP KEY VALUE: a number for the report (sizes, bytes sent).
note() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BYTES"; }

can_drop=0
sync
if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then can_drop=1; fi
drop_caches() { sync; if ((can_drop)); then echo 3 >/proc/sys/vm/drop_caches; fi; }
settle() { sync; }  # before a timed step: nothing of the last one left to write back
# Reads the inputs of the next step into the page cache (not timed), so that
# every tool starts warm: otherwise whoever goes first pays the disk reads,
# and on machines that page out cold page cache (DAMON reclaim, as in
# Firecracker VMs: a minute unread is enough) that is every step.
warm() {  # DIR... (tar to a pipe: GNU tar skips reading when writing to /dev/null)
  tar -cf - "$@" 2>/dev/null | cat >/dev/null
}
warm_meta() { find "$@" >/dev/null; }
# The order of the tools in repetition REP: rotated by REP - 1, so that no
# tool is always first (cold) or last after a step.
order() {  # REP ITEM...
  local r=$1 n i
  shift
  n=$#
  local items=("$@")
  for ((i = 0; i < n; i++)); do echo "${items[$(((i + r - 1) % n))]}"; done
}

jget() {  # jget FILE PY-EXPR-ON-j
  python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print($2)" "$1"
}

# --- data ------------------------------------------------------------------
gen=$root/bench/e2e_data.py
files=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 80000 * s }')
media=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 300 * 1048576 * s }')
dump=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 500000000 * s }')
stamp="seed=$SEED scale=$SCALE files=$files media=$media dump=$dump v1"
if [[ -d $D/save ]]; then  # an interrupted run left the 1% change applied
  cp -a "$D/save/tree/." "$D/tree/" && cp -a "$D/save/media/." "$D/media/" && rm -rf "$D/save"
fi
if [[ $(cat "$D/stamp" 2>/dev/null) != "$stamp" ]]; then
  echo "== generating data under $D ($stamp)"
  rm -rf "$D" && mkdir -p "$D"
  t0=$(now)
  python3 "$gen" tree "$D/tree" "$files" "$SEED" | sed 's/^/   /'
  python3 "$gen" media "$D/media" "$media" "$SEED" | sed 's/^/   /'
  python3 "$gen" dump "$D/dump1.sql" "$D/dump2.sql" "$dump" "$SEED" | sed 's/^/   /'
  echo "$stamp" >"$D/stamp"
  echo "   $(secs "$t0" "$(now)") s"
else
  echo "== reusing data under $D ($stamp)"
fi
src_bytes=$(($(bytes "$D/tree") + $(bytes "$D/media")))

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "scale=$SCALE"
  echo "runs=$RUNS"
  echo "seed=$SEED"
  echo "files=$files"
  echo "tree_bytes=$(bytes "$D/tree")"
  echo "media_bytes=$(bytes "$D/media")"
  echo "media_files=$(find "$D/media" -type f | wc -l)"
  echo "dump_bytes=$(stat -c %s "$D/dump1.sql")"
  echo "dump2_bytes=$(stat -c %s "$D/dump2.sql")"
  echo "cpu=$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1) x $(nproc)"
  echo "mem=$(free -g | awk '/^Mem:/ { print $2 }') GiB"
  echo "kernel=$(uname -r)"
  echo "fs=$(df -T "$W" | awk 'NR == 2 { print $2 }')"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "drop_caches=$can_drop"
  command -v restic >/dev/null && echo "restic=$(restic version | cut -d' ' -f1-2)"
  command -v borg >/dev/null && echo "borg=$(borg --version)"
  echo "zstd=zstd $(zstd --version | grep -o 'v[0-9.]*' | head -1)"
} >"$META"

# --- per tool: init, snapshot, restore ---------------------------------------
has() { local t; for t in "${tools[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }

init_repo() {  # TOOL REPO
  rm -rf "$2"
  case $1 in
  snapctl) "$SNAP" --repo "$2" init >"$L/init.out" 2>&1 ;;
  restic) rm -rf "$RESTIC_CACHE_DIR" && restic -r "$2" init >"$L/init.out" 2>&1 ;;
  borg) rm -rf "$BORG_CACHE_DIR" "$BORG_SECURITY_DIR" && borg init -e repokey-blake2 "$2" >"$L/init.out" 2>&1 ;;
  esac || { cat "$L/init.out" >&2; die "$1 init $2 failed"; }
}
# Repository bytes: what the repository directory holds, without snapctl's
# local RocksDB index (rebuildable from the packs, like restic's and borg's
# caches, which live outside their repositories and are not counted either).
repo_bytes() {  # TOOL REPO
  if [[ $1 == snapctl && -d $2/index ]]; then echo $(($(bytes "$2") - $(bytes "$2/index"))); else bytes "$2"; fi
}
local_bytes() {  # TOOL REPO: the local index/cache beside the repository
  case $1 in
  snapctl) bytes "$2/index" ;;
  restic) bytes "$RESTIC_CACHE_DIR" ;;
  borg) bytes "$BORG_CACHE_DIR" ;;
  esac
}
backup() {  # STEP TOOL REP NAME: snapshot of tree + media into $R/TOOL
  local repo=$R/$2
  case $2 in
  snapctl) measure "$1" snapctl "$3" "$SNAP" --repo "$repo" --json snapshot \
    --source tree="$D/tree" --source media="$D/media" ;;
  restic) (cd "$D" && measure "$1" restic "$3" restic -r "$repo" backup "$D/tree" "$D/media") ;;
  borg) (cd "$D" && measure "$1" borg "$3" borg create --compression zstd,3 "$repo::$4" tree media) ;;
  esac
}
backup_dump() {  # STEP TOOL REP FILE NAME: FILE on stdin into $R/TOOL-dump
  local repo=$R/$2-dump
  case $2 in
  snapctl) measure "$1" snapctl "$3" "$SNAP" --repo "$repo" --json snapshot --dump db="cat $4" ;;
  restic) measure "$1" restic "$3" restic -r "$repo" backup --stdin --stdin-filename dump.sql <"$4" ;;
  borg) measure "$1" borg "$3" borg create --compression zstd,3 --stdin-name dump.sql "$repo::$5" - <"$4" ;;
  esac
}
restore() {  # TOOL REP: the latest tree snapshot into $T/REP/TOOL
  local repo=$R/$1 dst=$T/$2/$1
  mkdir -p "$dst"
  case $1 in
  snapctl) measure restore snapctl "$2" "$SNAP" --repo "$repo" restore latest --target "$dst" ;;
  restic) measure restore restic "$2" restic -r "$repo" restore latest --target "$dst" ;;
  borg) (cd "$dst" && measure restore borg "$2" borg extract "$repo::change1") ;;
  esac
}
restored_dir() {  # TOOL REP: where the restore put tree/ and media/
  case $1 in restic) echo "$T/$2/restic$D" ;; *) echo "$T/$2/$1" ;; esac
}
verify() {  # TOOL REP
  local out d
  d=$(restored_dir "$1" "$2")
  out=$(rsync -rlptn --checksum --delete --itemize-changes "$D/tree/" "$d/tree/"; rsync -rlptn --checksum --delete --itemize-changes "$D/media/" "$d/media/")
  [[ -z $out ]] || { echo "$out" | head -20 >&2; die "the $1 restore differs from the source"; }
  echo "   $1 restore verified (rsync --checksum: identical)"
}

start_replicad() {
  rm -rf "$W/replica"
  "$REPLICAD" init --dir "$W/replica" >/dev/null
  "$REPLICAD" allow --dir "$W/replica" "$("$SNAP" identity)" >/dev/null
  "$REPLICAD" serve --dir "$W/replica" --listen 127.0.0.1:0 2>"$L/replicad.log" &
  REPLICAD_PID=$!
  local port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$L/replicad.log" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$L/replicad.log" >&2; die "replicad did not start"; }
  "$SNAP" --repo "$R/snapctl" peer add e2e "replica://127.0.0.1:$port" \
    --fingerprint "$("$REPLICAD" fingerprint --dir "$W/replica")" >/dev/null
}
stop_replicad() {
  if [[ -n $REPLICAD_PID ]]; then kill "$REPLICAD_PID"; wait "$REPLICAD_PID" || true; fi
  REPLICAD_PID=
}
replicate() {  # STEP REP
  measure "$1" snapctl "$2" "$SNAP" --repo "$R/snapctl" --json replicate
  local j=$L/$1.snapctl.$2.out
  note "$1" snapctl "$2" bytes_sent "$(jget "$j" "j[0]['bytes_sent']")"
  note "$1" snapctl "$2" frame_bytes "$(jget "$j" "j[0]['frame_bytes']")"
}
pack_bytes() { "$SNAP" --repo "$R/snapctl" --json info >"$L/info.json" && jget "$L/info.json" "j['pack_bytes']"; }

# The restored trees are kept until the last repetition's restores are done
# (see "5." below): each repetition restores the source once per tool and
# once by cp -a. Blocks and inodes as the source uses them, and a tenth more
# for the repositories.
copies=$((RUNS * (${#tools[@]} + 1)))
need_kb=$(($(du -sk "$D/tree" "$D/media" | awk '{ s += $1 } END { print s }') * copies * 11 / 10))
need_inodes=$(($(find "$D/tree" "$D/media" | wc -l) * copies * 11 / 10))
free_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
free_inodes=$(df -Pi "$W" | awk 'NR == 2 { print $4 }')
((free_kb > need_kb)) || die "$W has $((free_kb / 1024)) MiB free; the restores of $RUNS repetition(s) need ~$((need_kb / 1024)) MiB (lower RUNS or SCALE, or set WORK_DIR)"
# A file system without an inode count (df prints "-") is not checked.
[[ ! $free_inodes =~ ^[0-9]+$ ]] || ((free_inodes > need_inodes)) ||
  die "$W has $free_inodes free inodes; the restores of $RUNS repetition(s) need ~$need_inodes (lower RUNS or SCALE, or set WORK_DIR)"

t_start=$(now)
echo "== $RUNS repetition(s), tools: ${tools[*]}; data: $files small files + $(find "$D/media" -type f | wc -l) media files ($src_bytes bytes), dump $(stat -c %s "$D/dump1.sql") bytes; drop_caches=$can_drop"
for rep in $(seq 1 "$RUNS"); do
  echo "== repetition $rep of $RUNS ($(secs "$t_start" "$(now)") s so far; load $(cut -d' ' -f1-3 /proc/loadavg))"
  for t in "${tools[@]}"; do init_repo "$t" "$R/$t"; done
  has snapctl && start_replicad

  # 1. initial snapshot
  for t in $(order "$rep" "${tools[@]}" tar); do
    (cd "$D" && warm tree media)
    settle
    if [[ $t == tar ]]; then
      measure initial "tar|zstd" "$rep" bash -c "cd '$D' && tar -cf - tree media | zstd -3 -T2 -q -c >/dev/null"
      continue
    fi
    backup initial "$t" "$rep" initial
    note initial "$t" "$rep" repo "$(repo_bytes "$t" "$R/$t")"
    note initial "$t" "$rep" local "$(local_bytes "$t" "$R/$t")"
    if [[ $t == snapctl ]]; then settle; replicate replicate-initial "$rep"; fi
  done

  # 2. unchanged re-snapshot
  for t in $(order "$rep" "${tools[@]}" find); do
    warm_meta "$D/tree" "$D/media"
    settle
    if [[ $t == find ]]; then
      measure unchanged "stat walk" "$rep" bash -c "find '$D/tree' '$D/media' -type f -printf '%s\n' >/dev/null"
      continue
    fi
    before=$(repo_bytes "$t" "$R/$t")
    backup unchanged "$t" "$rep" unchanged
    note unchanged "$t" "$rep" added $(($(repo_bytes "$t" "$R/$t") - before))
    if [[ $t == snapctl ]]; then settle; replicate replicate-unchanged "$rep"; fi
  done

  # 3. 1% changed, then 6. its replication
  python3 "$gen" change "$D/tree" "$D/media" "$D/save" "$SEED-$rep" | sed 's/^/   /'
  for t in $(order "$rep" "${tools[@]}"); do
    (cd "$D" && warm tree media)
    settle
    before=$(repo_bytes "$t" "$R/$t")
    [[ $t == snapctl ]] && packs_before=$(pack_bytes)
    backup change1 "$t" "$rep" change1
    note change1 "$t" "$rep" added $(($(repo_bytes "$t" "$R/$t") - before))
    if [[ $t == snapctl ]]; then
      note change1 snapctl "$rep" pack_added $(($(pack_bytes) - packs_before))
      settle
      replicate replicate-1% "$rep"
    fi
  done
  stop_replicad

  # 5. full restore of the 1%-changed snapshot (and cp -a of the source).
  # Each into its own directory, all kept until the last repetition's are
  # done: on ext4 without a journal, a new inode is not one freed in the
  # last minute (six while its inode-table block is dirty) while an older
  # free one is left (recently_deleted() in fs/ext4/ialloc.c), and every
  # create scans the group's bitmap past them. Dropping the page cache does
  # not help: the restore's own creates read those blocks back and dirty
  # them. Restores within minutes of deleting an earlier repetition's
  # restored trees (80,000 files each) measured 3-4x the system time, and
  # the tool that creates files fastest paid most for it (snapctl ~8.5 s
  # against ~3.4 s, restic ~15 s against ~12 s).
  mkdir -p "$T/$rep"
  for t in $(order "$rep" "${tools[@]}" cp); do
    drop_caches
    if [[ $t == cp ]]; then
      mkdir -p "$T/$rep/cp"
      measure restore "cp -a" "$rep" cp -a "$D/tree" "$D/media" "$T/$rep/cp/"
    else
      restore "$t" "$rep"
      if [[ $VERIFY == 1 && $rep == 1 ]]; then verify "$t" "$rep"; fi
    fi
  done
  sync
  cp -a "$D/save/tree/." "$D/tree/" && cp -a "$D/save/media/." "$D/media/" && rm -rf "$D/save"
  for t in "${tools[@]}"; do rm -rf "${R:?}/$t"; done

  # 4. the dump, then its second version
  for t in $(order "$rep" "${tools[@]}"); do
    init_repo "$t" "$R/$t-dump"
    empty=$(repo_bytes "$t" "$R/$t-dump")
    cat "$D/dump1.sql" >/dev/null
    settle
    backup_dump dump1 "$t" "$rep" "$D/dump1.sql" dump1
    note dump1 "$t" "$rep" stored $(($(repo_bytes "$t" "$R/$t-dump") - empty))
    note dump1 "$t" "$rep" before_dump2 "$(repo_bytes "$t" "$R/$t-dump")"
  done
  for t in $(order "$rep" "${tools[@]}"); do
    cat "$D/dump2.sql" >/dev/null
    before=$(awk -F'\t' -v t="$t" -v r="$rep" '$1 == "dump1" && $2 == t && $3 == r && $4 == "before_dump2" { print $5 }' "$BYTES")
    settle
    backup_dump dump2 "$t" "$rep" "$D/dump2.sql" dump2
    note dump2 "$t" "$rep" added $(($(repo_bytes "$t" "$R/$t-dump") - before))
  done
  for t in "${tools[@]}"; do rm -rf "${R:?}/$t-dump"; done
  rm -rf "$W/cache"/*
  sync
done
rm -rf "$T"
sync

# Peak RSS with SCALE_FILES times the small files (snapctl only).
if has snapctl && [[ $SCALE_FILES != 0 && $SCALE_FILES != 1 ]]; then
  files10=$(awk -v f="$files" -v k="$SCALE_FILES" 'BEGIN { printf "%d", f * k }')
  stamp10="seed=$SEED files=$files10 bodies=$files v1"
  if [[ $(cat "$D/stamp10" 2>/dev/null) != "$stamp10" ]]; then
    echo "== generating $files10 small files under $D/tree10"
    rm -rf "$D/tree10"
    t0=$(now)
    python3 "$gen" tree "$D/tree10" "$files10" "$SEED" "$files" | sed 's/^/   /'
    echo "$stamp10" >"$D/stamp10"
    echo "   $(secs "$t0" "$(now)") s"
  fi
  echo "files10=$files10" >>"$META"
  echo "tree10_bytes=$(bytes "$D/tree10")" >>"$META"
  echo "== initial snapshot of tree10 ($files10 files) + media"
  init_repo snapctl "$R/snapctl-10x"
  (cd "$D" && warm tree10 media)
  settle
  measure initial-10x snapctl 1 "$SNAP" --repo "$R/snapctl-10x" --json snapshot \
    --source tree="$D/tree10" --source media="$D/media"
  note initial-10x snapctl 1 repo "$(repo_bytes snapctl "$R/snapctl-10x")"
  warm_meta "$D/tree10" "$D/media"
  settle
  measure unchanged-10x snapctl 1 "$SNAP" --repo "$R/snapctl-10x" --json snapshot \
    --source tree="$D/tree10" --source media="$D/media"
  warm_meta "$D/tree10" "$D/media"
  measure unchanged-10x "stat walk" 1 bash -c "find '$D/tree10' '$D/media' -type f -printf '%s\n' >/dev/null"
  rm -rf "$R/snapctl-10x"
fi

total=$(secs "$t_start" "$(now)")
echo "total=$total" >>"$META"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
echo "== done in $total s"
out=$root/bench/results-$(date -u +%Y-%m-%d).md
python3 "$root/bench/e2e_report.py" "$RESULTS" "$BYTES" "$META" | tee "$out"
echo
echo "written to $out"
