#!/usr/bin/env bash
# Measurement helper: how much does a plain pg_dump change when 1% of the rows change?
#   tests/db/pgbench_dump_ratio.sh DIR [SCALE]
# DIR is a running fixture (tests/db/postgres.sh start DIR). Creates database "pgbench"
# (pgbench -i -s SCALE, default 10 = 1M accounts), dumps it to DIR/pgbench-1.sql, updates
# every 100th pgbench_accounts row, dumps again to DIR/pgbench-2.sql, prints both sizes.
set -euo pipefail

die() { echo "pgbench_dump_ratio.sh: $*" >&2; exit 1; }
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 DIR [SCALE]" >&2; exit 2; }
dir=$(cd "$1" && pwd) scale=${2:-10}
conn=(-h "$dir" -U postgres)
export PGOPTIONS='-c client_min_messages=warning'
psql "${conn[@]}" -qAtc 'select 1' >/dev/null 2>&1 || die "no PostgreSQL server answers on $dir"

psql "${conn[@]}" -q -v ON_ERROR_STOP=1 -c 'drop database if exists pgbench' -c 'create database pgbench'
timeout 600 pgbench "${conn[@]}" -i -q -s "$scale" pgbench >"$dir/pgbench-init.log" 2>&1 ||
  { tail -n 20 "$dir/pgbench-init.log" >&2; die "pgbench -i failed"; }
timeout 600 pg_dump "${conn[@]}" --format=plain -f "$dir/pgbench-1.sql" pgbench
updated=$(psql "${conn[@]}" -qAt -v ON_ERROR_STOP=1 -d pgbench \
  -c 'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0 RETURNING 1' | wc -l)
timeout 600 pg_dump "${conn[@]}" --format=plain -f "$dir/pgbench-2.sql" pgbench

s1=$(stat -c %s "$dir/pgbench-1.sql") s2=$(stat -c %s "$dir/pgbench-2.sql")
changed=$(diff "$dir/pgbench-1.sql" "$dir/pgbench-2.sql" | grep -c '^>' || true)
echo "scale=$scale updated_rows=$updated"
echo "dump1_bytes=$s1 $dir/pgbench-1.sql"
echo "dump2_bytes=$s2 $dir/pgbench-2.sql"
echo "dump2_lines_not_in_dump1=$changed"
