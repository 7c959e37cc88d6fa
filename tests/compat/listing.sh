#!/usr/bin/env bash
# Prints what a restore must reproduce of the tree DIR: per entry its path,
# type, mode, size and link count (both "-" for a directory: they depend
# on the file system), mtime (ns) and symlink target, then the
# SHA-256 of every regular file. Used to make tests/compat/*/expected.txt
# and by tests/compat_test.cc to compare a restore with it.
set -euo pipefail
cd "$1"
find . -mindepth 1 -printf '%p %y %m %s %n %T@ %l\n' | awk '$2 == "d" { $4 = "-"; $5 = "-" } 1' |
  LC_ALL=C sort
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
