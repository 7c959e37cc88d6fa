#!/usr/bin/env bash
# The unchanged re-snapshot against a bare lstat walk of the same tree,
# side by side (FORMAT.md's files and directory caches; the e2e target
# "within 1.5x of a stat walk").
#
#   TREE=/tmp/h3-data/tree bash bench/unchanged.sh
#
# Makes a repository under WORK (once; KEEP=1 reuses it), takes the first
# snapshot, then RUNS times alternately: `find TREE -printf '%s\n'` (an
# lstat of every entry) and `snapctl snapshot` of the unchanged tree.
# Prints the median wall time and user+sys CPU of each and their ratio.
# The page cache and dentry cache are warm for both (the walk runs first).
set -euo pipefail

TREE=${TREE:?set TREE to the directory to snapshot}
SNAPCTL=${SNAPCTL:-$(dirname "$0")/../build/snapctl}
WORK=${WORK:-/tmp/snapctl-unchanged}
RUNS=${RUNS:-5}
KEEP=${KEEP:-0}

export SNAPCTL_REPO=$WORK/repo SNAPCTL_KEY_DIR=$WORK/keys
if [[ $KEEP != 1 || ! -d $WORK/repo ]]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  "$SNAPCTL" init >/dev/null
  "$SNAPCTL" snapshot --source tree="$TREE" >/dev/null
fi

measure() {  # LABEL CMD...: appends "LABEL wall user sys" to $WORK/times
  /usr/bin/time -f "$1 %e %U %S" -a -o "$WORK/times" "${@:2}" >/dev/null
}

: >"$WORK/times"
find "$TREE" -printf '%s\n' >/dev/null  # warm the dentry and inode caches
for ((i = 0; i < RUNS; i++)); do
  measure walk find "$TREE" -printf '%s\n'
  measure snapshot "$SNAPCTL" snapshot --source tree="$TREE"
done

python3 - "$WORK/times" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, wall, user, sys_ = line.split()
    rows.setdefault(label, []).append((float(wall), float(user) + float(sys_)))
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
       for k, v in rows.items()}
for k in ("walk", "snapshot"):
    print(f"{k:9} wall {med[k][0]:.3f} s   user+sys {med[k][1]:.3f} s   (median of {len(rows[k])})")
w, s = med["walk"], med["snapshot"]
print(f"ratio     wall {s[0] / w[0]:.2f}x   user+sys {s[1] / max(w[1], 0.001):.2f}x")
EOF
