#!/usr/bin/env bash
# Dump deduplication benchmark: how much does a re-snapshot of a changed pgbench dump add,
# for several dump chunk sizes ([chunking.dumps] min/avg/max)?
#
#   bench/dump_dedup.sh [WORKDIR]
#
# End to end: starts a tests/db/postgres.sh fixture in WORKDIR/pg, runs pgbench -i -s SCALE,
# copies the database twice (CREATE DATABASE ... TEMPLATE, so both start from identical
# pages), then for two change variants
#   update   UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0   (1%)
#   pgbench  pgbench -N -c 2 -t PGBENCH_TX --random-seed=42  (random account updates and
#            history inserts, pgbench's own "simple update" workload)
# and two dump formats
#   plain    pg_dump --format=plain --restrict-key=K  (fixed key: repeat dumps byte-identical)
#   custom   pg_dump --format=custom --compress=0
# takes, for every chunk size, a fresh repository, snapshot 1 (before the change) and
# snapshot 2 (after), each with --dump db='pg_dump ...' (pg_dump streams into snapctl).
# Prints one table per variant and format, and how many dump lines changed.
# The fixture is stopped at the end (also on failure or Ctrl-C).
#
# Environment: SNAPCTL (default build/snapctl), SCALE (10), PGBENCH_TX (2000 per client),
# SIZES (avg sizes in bytes; min = avg/4, max = avg*4; "default" = 64K/128K/1M, the
# current built-in dump default), KEEP=1 keeps the dump files and the server data,
# FILLER=random replaces pgbench's blank filler column by hex digits before anything is
# dumped (pgbench's blank-padded rows compress about 80x, real tables far less; with hex
# filler the dump compresses about 4x).
# Needs root or the postgresql packages installed, and jq. Takes about 2 minutes at
# scale 10 on 2 cores (3 with FILLER=random and 8 sizes); WORKDIR/results.tsv holds the
# raw numbers.
set -euo pipefail

die() { echo "dump_dedup.sh: $*" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
snapctl=${SNAPCTL:-$root/build/snapctl}
scale=${SCALE:-10}
tx=${PGBENCH_TX:-2000}
sizes=${SIZES:-"16384 32768 65536 131072 262144 default"}
[[ -x $snapctl ]] || die "no snapctl binary at $snapctl (build it, or set SNAPCTL)"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
command -v pgbench >/dev/null || [[ $EUID -eq 0 ]] || die "pgbench missing (apt-get install postgresql)"

if [[ $# -ge 1 ]]; then work=$1; mkdir -p "$work"; else work=$(mktemp -d /tmp/dumpbench.XXXXXX); fi
work=$(cd "$work" && pwd)
chmod 755 "$work"  # the postgres user must traverse it to reach the socket directory
pg=$work/pg dumps=$work/dumps repos=$work/repos results=$work/results.tsv
((${#pg} < 90)) || die "WORKDIR too long for a unix socket path: $work"
[[ ! -e $repos ]] || die "$repos exists: use a fresh WORKDIR"
mkdir -p "$dumps" "$repos"
# A private copy, so that a rebuild of build/snapctl during the run cannot break or mix it.
cp "$snapctl" "$work/snapctl" && snapctl=$work/snapctl
"$snapctl" --help >/dev/null || die "$snapctl does not run"
# Nothing from the caller's environment may pick another repository, key or config.
unset SNAPCTL_REPO SNAPCTL_CONFIG SNAPCTL_PASSWORD SNAPCTL_PASSWORD_FILE SNAPCTL_KEY_FILE
export SNAPCTL_KEY_DIR=$work/keys
export PGOPTIONS='-c client_min_messages=warning'

cleanup() {
  bash "$root/tests/db/postgres.sh" stop "$pg" || true
  if [[ ${KEEP:-0} != 1 ]]; then rm -rf "$dumps" "$pg" "$work/snapctl"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
# Repository bytes on disk without the local RocksDB index (packs, snapshots, config, keys).
repo_bytes() { echo $(($(du -sb "$1" | cut -f1) - $(du -sb "$1/index" | cut -f1))); }
index_bytes() { du -sb "$1/index" | cut -f1; }
dump_cmd() {  # FORMAT DB
  case $1 in
  plain) echo "pg_dump -h $pg -U postgres --format=plain --restrict-key=snapctlbench $2" ;;
  custom) echo "pg_dump -h $pg -U postgres --format=custom --compress=0 $2" ;;
  esac
}
params() {  # SIZE -> "min avg max"
  if [[ $1 == default ]]; then echo "65536 131072 1048576"; else echo "$(($1 / 4)) $1 $(($1 * 4))"; fi
}
label() { local min avg max; read -r min avg max <<<"$(params "$1")"; echo "$((min / 1024))K/$((avg / 1024))K/$((max / 1024))K"; }

echo "== fixture and pgbench -i -s $scale${FILLER:+, filler $FILLER} (workdir $work)"
t0=$(now)
bash "$root/tests/db/postgres.sh" start "$pg"
psql=(psql -h "$pg" -U postgres -q -v ON_ERROR_STOP=1)
"${psql[@]}" -c 'create database pgbench'
pgbench -h "$pg" -U postgres -i -q -s "$scale" pgbench >"$work/pgbench-init.log" 2>&1 ||
  { tail -n 20 "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }
if [[ ${FILLER:-} == random ]]; then
  "${psql[@]}" -d pgbench -c "UPDATE pgbench_accounts SET filler = md5(aid::text) || md5((aid + 1)::text) || substr(md5((aid + 2)::text), 1, 20)" \
    -c 'VACUUM FULL ANALYZE pgbench_accounts'  # rewrites the table in aid order, no dead rows
fi
"${psql[@]}" -c 'create database v_update template pgbench' -c 'create database v_pgbench template pgbench'
echo "   $(secs "$t0" "$(now)") s"

# snap VARIANT FORMAT SIZE N: snapshot N of the repository for (VARIANT, FORMAT, SIZE),
# appending one row to results.tsv.
snap() {
  local v=$1 f=$2 s=$3 n=$4 repo=$repos/$1-$2-$3 cfg=$repos/$1-$2-$3.toml out t0 t1
  if ((n == 1)); then
    local min avg max
    read -r min avg max <<<"$(params "$s")"
    printf '[repository]\npath = "%s"\n\n[chunking.dumps]\nmin = %d\navg = %d\nmax = %d\n' \
      "$repo" "$min" "$avg" "$max" >"$cfg"
    "$snapctl" --config "$cfg" init >/dev/null
  fi
  t0=$(now)
  out=$("$snapctl" --config "$cfg" --json snapshot --dump db="$(dump_cmd "$f" "v_$v")")
  t1=$(now)
  local stats
  stats=$("$snapctl" --config "$cfg" --json stats)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$f" "$s" "$n" \
    "$(jq -r .sources.db.bytes <<<"$out")" "$(jq -r .sources.db.new_bytes <<<"$out")" \
    "$(jq -r .sources.db.new_chunks <<<"$out")" "$(jq -r .sources.db.stored_bytes <<<"$out")" \
    "$(jq -r .chunks <<<"$stats")" "$(repo_bytes "$repo")" "$(index_bytes "$repo")" \
    "$(secs "$t0" "$t1")" >>"$results"
}

# dumpfile VARIANT FORMAT N: the same dump to a file (for sizes, diff, and to check that
# the streamed dump had the same length).
dumpfile() {
  local ext=sql
  [[ $2 == custom ]] && ext=dump
  eval "$(dump_cmd "$2" "v_$1") -f $dumps/$1-$3.$ext"
  echo "$dumps/$1-$3.$ext"
}

change() {
  case $1 in
  update)
    "${psql[@]}" -At -d v_update \
      -c 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0 RETURNING 1' | wc -l |
      sed 's/^/   rows updated: /'
    ;;
  pgbench)
    pgbench -h "$pg" -U postgres -N -c 2 -t "$tx" --random-seed=42 v_pgbench >"$work/pgbench-run.log" 2>&1 ||
      { tail -n 20 "$work/pgbench-run.log" >&2; die "pgbench run failed"; }
    echo "   pgbench -N -c 2 -t $tx: $(grep -m1 'actually processed' "$work/pgbench-run.log")"
    "${psql[@]}" -At -d v_pgbench -c 'select count(*) from pgbench_accounts where abalance <> 0' |
      sed 's/^/   accounts with abalance <> 0: /'
    ;;
  esac
}

printf 'variant\tformat\tsize\tsnap\tbytes\tnew_bytes\tnew_chunks\tstored_new\tchunks_total\trepo_bytes\tindex_bytes\tseconds\n' >"$results"
declare -A lines_added lines_removed
for v in update pgbench; do
  echo "== variant $v"
  for n in 1 2; do
    if ((n == 2)); then change "$v"; fi
    for f in plain custom; do
      t0=$(now)
      file=$(dumpfile "$v" "$f" "$n")
      echo "   pg_dump $f to file: $(stat -c %s "$file") bytes, $(secs "$t0" "$(now)") s"
      for s in $sizes; do snap "$v" "$f" "$s" "$n"; done
    done
  done
  lines_added[$v]=$(diff "$dumps/$v-1.sql" "$dumps/$v-2.sql" | grep -c '^>' || true)
  lines_removed[$v]=$(diff "$dumps/$v-1.sql" "$dumps/$v-2.sql" | grep -c '^<' || true)
  echo "   plain dump lines: $(wc -l <"$dumps/$v-2.sql"), in dump 2 not dump 1 (diff '>'): ${lines_added[$v]}, in dump 1 not dump 2 ('<'): ${lines_removed[$v]}"
done

# Sanity: a streamed dump must have the size of the same dump written to a file.
awk -F'\t' -v d="$dumps" 'NR > 1 {
    ext = ($2 == "custom") ? "dump" : "sql"; f = d "/" $1 "-" $4 "." ext
    cmd = "stat -c %s " f; cmd | getline sz; close(cmd)
    if (sz != $5) printf "WARNING: %s %s %s snapshot %s streamed %s bytes, file has %s\n", $1, $2, $3, $4, $5, sz
  }' "$results" >&2

mb() { awk -v b="$1" 'BEGIN { printf "%.3f", b / 1e6 }'; }
echo
echo "Sizes in MB (10^6 bytes). new = raw bytes of chunks snapshot 2 added (new_bytes); stored = what"
echo "those chunks took in packs (zstd + AES-GCM + entry headers); repo = du -sb REPO minus REPO/index"
echo "after snapshot 1 and 2; chunks = chunk count in the index after snapshot 2; index2 = du -sb"
echo "REPO/index after snapshot 2; time = wall time of 'snapctl snapshot --dump' including pg_dump."
for v in update pgbench; do
  for f in plain custom; do
    echo
    case $v in
    update) what="UPDATE 1% of pgbench_accounts (aid % 100 = 0)" ;;
    pgbench) what="pgbench -N -c 2 -t $tx" ;;
    esac
    echo "### $what, pg_dump --format=$f$([[ $f == custom ]] && echo ' --compress=0')"
    [[ $f == plain ]] && echo "changed lines: ${lines_added[$v]} added, ${lines_removed[$v]} removed"
    printf '%-16s %9s %9s %7s %9s %9s %7s %9s %9s %9s %7s %7s %7s %7s\n' \
      "min/avg/max" "dump2" "new" "new%" "new_chk" "stored" "st/new" "repo1" "repo2" "growth" "chunks" "index2" "t1 s" "t2 s"
    for s in $sizes; do
      r1=$(awk -F'\t' -v v="$v" -v f="$f" -v s="$s" '$1 == v && $2 == f && $3 == s && $4 == 1' "$results")
      r2=$(awk -F'\t' -v v="$v" -v f="$f" -v s="$s" '$1 == v && $2 == f && $3 == s && $4 == 2' "$results")
      IFS=$'\t' read -r _ _ _ _ _ _ _ _ _ rb1 _ t1 <<<"$r1"
      IFS=$'\t' read -r _ _ _ _ b2 nb2 nc2 sb2 ct2 rb2 ib2 t2 <<<"$r2"
      printf '%-16s %9s %9s %6s%% %9s %9s %6s%% %9s %9s %9s %7s %7s %7s %7s\n' "$(label "$s")" \
        "$(mb "$b2")" "$(mb "$nb2")" "$(awk -v a="$nb2" -v b="$b2" 'BEGIN { printf "%.1f", 100 * a / b }')" \
        "$nc2" "$(mb "$sb2")" "$(awk -v a="$sb2" -v b="$nb2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')" \
        "$(mb "$rb1")" "$(mb "$rb2")" "$(mb $((rb2 - rb1)))" "$ct2" "$(mb "$ib2")" "$t1" "$t2"
    done
  done
done
echo
echo "raw numbers: $results"
