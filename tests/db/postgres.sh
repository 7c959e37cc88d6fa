#!/usr/bin/env bash
# Throwaway PostgreSQL server for end-to-end tests: unix socket in DIR only, no TCP.
#   tests/db/postgres.sh start DIR   install if missing, initdb DIR/data, start, wait until ready
#   tests/db/postgres.sh stop DIR    shut it down (exit 0 if it is not running)
# Clients: psql -h DIR -U postgres   (trust auth, no password)
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }
[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
[[ $cmd == start ]] && mkdir -p "$2"
[[ -d $2 ]] || exit 0  # stop: nothing was ever started there
dir=$(cd "$2" && pwd)
[[ $dir =~ ^[A-Za-z0-9_./+-]+$ ]] || die "DIR must not contain spaces or quotes: $dir"
((${#dir} < 90)) || die "DIR too long for a unix socket path: $dir"
data=$dir/data log=$dir/server.log

# Install Debian packages that are missing, without letting their services start.
# A lock serializes fixtures installing at the same time (apt, dpkg and policy-rc.d).
missing() { local p; for p; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done; }
apt_install() {
  [[ -n $(missing "$@") ]] || return 0
  ((EUID == 0)) || die "packages missing and not root: $(missing "$@" | xargs)"
  exec 9>/tmp/snapctl-db-fixture-apt.lock  # closed below so the server does not inherit it
  flock -w 900 9 || die "waited 900 s for another fixture's apt-get"
  local pkgs policy=/usr/sbin/policy-rc.d own_policy=0
  mapfile -t pkgs < <(missing "$@")
  if ((${#pkgs[@]})); then
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    local apt=(timeout 900 apt-get -y -qq -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" install --no-install-recommends "${pkgs[@]}" >"$dir/apt.log" 2>&1; then
      "${apt[@]}" update >>"$dir/apt.log" 2>&1 || true  # package lists missing or stale
      "${apt[@]}" install --no-install-recommends "${pkgs[@]}" >>"$dir/apt.log" 2>&1 ||
        { tail -n 20 "$dir/apt.log" >&2; die "apt-get install ${pkgs[*]} failed (log: $dir/apt.log)"; }
    fi
    if ((own_policy)); then rm -f "$policy"; trap - EXIT; fi
    # The package enabled its unit and created a "main" cluster on port 5432: keep them off.
    systemctl disable --now postgresql >/dev/null 2>&1 || true
    pg_lsclusters -h 2>/dev/null | while read -r ver name _ status _; do
      if [[ $status == online* ]]; then pg_ctlcluster "$ver" "$name" stop -m fast >/dev/null 2>&1 || true; fi
    done
  fi
  exec 9>&-
}

# Run as the postgres OS user when we are root (the server refuses to run as root).
as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

bindir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -x $d/pg_ctl ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
  echo "$d"
}

# Close inherited descriptors above 2 so the daemon does not hold a caller's pipe open.
close_fds() { local f; for f in "/proc/$BASHPID/fd"/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done 2>/dev/null || true; }

# True while process $1 exists and is not a zombie.
alive() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) && [[ ${s##*) } != Z* ]]; }

# Prints the postmaster pid if DIR/data/postmaster.pid names a live process.
server_pid() {
  local pid
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qF -- "$data" "/proc/$pid/cmdline" || return 1
  echo "$pid"
}

start() {
  apt_install postgresql
  local bin
  bin=$(bindir)
  server_pid >/dev/null && die "a server is already running for $dir"
  if ((EUID == 0)); then
    chown postgres: "$dir" && chmod 755 "$dir"
    as_pg test -x "$dir" -a -w "$dir" ||
      die "user postgres cannot enter $dir: a parent directory is not world-traversable"
  fi
  if [[ ! -f $data/PG_VERSION ]]; then
    rm -rf "$data"
    as_pg timeout 120 "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C \
      --no-sync >"$dir/initdb.log" 2>&1 ||
      { tail -n 30 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
  fi
  # pg_ctl -w waits for the server to accept connections, at most -t seconds.
  if ! (close_fds; as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o \
    "-k $dir -c listen_addresses='' -c shared_buffers=32MB -c fsync=off -c max_connections=30" \
    start >"$dir/pg_ctl.log" 2>&1); then
    echo "postgres.sh: server failed to start (pg_ctl waits at most 60 s); last log lines:" >&2
    tail -n 30 "$log" "$dir/pg_ctl.log" >&2 2>/dev/null || true
    stop >/dev/null 2>&1 || true
    exit 1
  fi
}

stop() {
  local pid i
  pid=$(server_pid) || return 0
  as_pg "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
  for ((i = 0; i < 25; i++)); do  # pg_ctl waited already; allow a little more
    alive "$pid" || return 0
    sleep 0.2
  done
  echo "postgres.sh: postgres $pid did not stop within 25 s, killing it" >&2
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true  # postmaster leads its group
  sleep 1
  ! alive "$pid" || die "postgres $pid survived SIGKILL"
}

"$cmd"
