#!/usr/bin/env bash
# Throwaway MariaDB server for end-to-end tests: unix socket only, no TCP.
#   tests/db/mariadb.sh start DIR   install if missing, init DIR/data, start, wait until it answers
#   tests/db/mariadb.sh stop DIR    shut it down (exit 0 if it is not running)
# Clients: mariadb --socket=DIR/mysql.sock -uroot   (no password)
set -euo pipefail

die() { echo "mariadb.sh: $*" >&2; exit 1; }
[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
[[ $cmd == start ]] && mkdir -p "$2"
[[ -d $2 ]] || exit 0  # stop: nothing was ever started there
dir=$(cd "$2" && pwd)
sock=$dir/mysql.sock pidfile=$dir/mariadbd.pid log=$dir/error.log
((${#sock} < 100)) || die "socket path too long for a unix socket: $sock"

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
    # The package enabled its unit (and started it if policy-rc.d was ignored): turn it off.
    systemctl disable --now mariadb >/dev/null 2>&1 || true
  fi
  exec 9>&-
}

# Close inherited descriptors above 2 so the daemon does not hold a caller's pipe open.
close_fds() { local f; for f in "/proc/$BASHPID/fd"/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done 2>/dev/null || true; }

# True while process $1 exists and is not a zombie.
alive() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) && [[ ${s##*) } != Z* ]]; }

# Prints the server pid if the pid file names a live mariadbd of this DIR.
server_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--socket=$sock" || return 1
  echo "$pid"
}

answers() { timeout 10 mariadb --no-defaults --connect-timeout=5 --socket="$sock" -uroot -Nse 'select 1' >/dev/null 2>&1; }

fail_start() {
  echo "mariadb.sh: $*; last lines of $log:" >&2
  tail -n 30 "$log" >&2 2>/dev/null || true
  exit 1
}

start() {
  apt_install mariadb-server mariadb-client
  server_pid >/dev/null && die "a server is already running for $dir"
  local user=() pid i
  ((EUID == 0)) && user=(--user=root)
  # Two tests may install at the same moment; a failed install (seen once
  # under load, cause not in its log's tail) is retried from scratch.
  for ((i = 1; i <= 3; i++)); do
    [[ -d $dir/data/mysql ]] && break
    rm -rf "$dir/data"
    timeout 120 mariadb-install-db --no-defaults "${user[@]}" --datadir="$dir/data" \
      --auth-root-authentication-method=normal --skip-test-db --tmpdir="$dir" \
      --innodb-buffer-pool-size=64M >"$dir/install-db.log" 2>&1 && break
    echo "mariadb.sh: mariadb-install-db failed (try $i of 3):" >&2
    grep -iE 'error|warning' "$dir/install-db.log" | head -n 20 >&2 || true
    rm -rf "$dir/data"
    ((i < 3)) && sleep 1
  done
  [[ -d $dir/data/mysql ]] || die "mariadb-install-db failed (log: $dir/install-db.log)"
  rm -f "$sock" "$pidfile"
  (close_fds; exec /usr/sbin/mariadbd --no-defaults "${user[@]}" --datadir="$dir/data" --socket="$sock" \
    --skip-networking --pid-file="$pidfile" --log-error="$log" --tmpdir="$dir" \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --key-buffer-size=8M \
    --innodb-buffer-pool-dump-at-shutdown=OFF --innodb-buffer-pool-load-at-startup=OFF \
    --max-connections=50 </dev/null >>"$log" 2>&1) &
  pid=$!
  for ((i = 0; i < 300; i++)); do  # 300 x 0.2 s = 60 s
    answers && return 0
    alive "$pid" || fail_start "mariadbd exited during startup"
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  fail_start "mariadbd did not answer on $sock within 60 s"
}

stop() {
  local pid i
  pid=$(server_pid) || { rm -f "$sock" "$pidfile"; return 0; }
  timeout 20 mariadb-admin --no-defaults --socket="$sock" -uroot shutdown >/dev/null 2>&1 || true
  for ((i = 0; i < 100; i++)); do  # up to 20 s for a clean exit
    alive "$pid" || { rm -f "$sock" "$pidfile"; return 0; }
    sleep 0.2
  done
  echo "mariadb.sh: mariadbd $pid did not stop within 20 s, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || { rm -f "$sock" "$pidfile"; return 0; }
    sleep 0.2
  done
  die "mariadbd $pid survived SIGKILL"
}

"$cmd"
