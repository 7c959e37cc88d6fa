#!/usr/bin/env python3
"""Markdown report for bench/e2e.sh: e2e_report.py RESULTS.tsv BYTES.tsv META.txt

RESULTS rows: step tool rep wall_s user_s sys_s rss_kb
BYTES rows:   step tool rep key value
Medians over the repetitions; "x snapctl" is the other tool's median over
snapctl's (above 1: snapctl is faster or smaller).
"""
import collections
import statistics
import sys

STEPS = [
    ("initial", "1. initial snapshot, tree + media", "repo", "repository"),
    ("unchanged", "2. unchanged re-snapshot", "added", "added"),
    ("change1", "3. re-snapshot, 1% changed", "added", "added"),
    ("dump1", "4a. dump v1 on stdin", "stored", "stored"),
    ("dump2", "4b. dump v2 on stdin", "added", "added"),
    ("restore", "5. full restore (cold cache)", None, ""),
    ("replicate-1%", "6. replicate the 1% snapshot", "bytes_sent", "on the wire"),
]
TOOLS = ["snapctl", "restic", "borg", "tar|zstd", "stat walk", "cp -a"]
MIB = 1048576


def load(results, byts):
    t = collections.defaultdict(list)  # (step, tool) -> [(rep, wall, cpu, rss_kb)]
    for line in open(results):
        step, tool, rep, wall, user, sys_, rss = line.rstrip("\n").split("\t")
        t[(step, tool)].append((int(rep), float(wall), float(user) + float(sys_), int(rss)))
    b = collections.defaultdict(dict)  # (step, tool, key) -> {rep: value}
    for line in open(byts):
        step, tool, rep, key, value = line.rstrip("\n").split("\t")
        b[(step, tool, key)][int(rep)] = int(value)
    return t, b


def med(xs):
    return statistics.median(xs) if xs else None


def mb(x):
    if x is None:
        return ""
    return f"{x / 1e6:,.1f}" if abs(x) >= 1e7 else f"{x / 1e6:.3f}"


def show(tool):
    return tool.replace("|", " \\| ")


def fmt_ratio(x):
    return "" if x is None else f"{x:.2f}"


def main(argv):
    t, b = load(argv[1], argv[2])
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(argv[3]) if "=" in line)
    wall = lambda s, tool: med([r[1] for r in t.get((s, tool), [])])
    cpu = lambda s, tool: med([r[2] for r in t.get((s, tool), [])])
    rss = lambda s, tool: max([r[3] for r in t.get((s, tool), [])], default=None)
    val = lambda s, tool, k: med(list(b.get((s, tool, k), {}).values()))
    out = []
    p = out.append
    p(f"## End-to-end benchmark, {meta.get('date')}: SCALE={meta.get('scale')}, RUNS={meta.get('runs')}")
    p("")
    p(f"Data: {int(meta['files']):,} small files ({int(meta['tree_bytes']) / 1e6:,.0f} MB) + "
      f"{meta['media_files']} media files ({int(meta['media_bytes']) / 1e6:,.0f} MB); SQL dump "
      f"{int(meta['dump_bytes']) / 1e6:,.0f} MB. Machine: {meta.get('cpu')}, {meta.get('mem')}, "
      f"{meta.get('fs')}, kernel {meta.get('kernel')}; load average {meta.get('load_start')} at the "
      f"start, {meta.get('load_end')} at the end (other jobs shared the cores). "
      f"{meta.get('restic', 'restic: not run')}, {meta.get('borg', 'borg: not run')}, {meta.get('zstd')}. "
      f"Page cache dropped before each restore: {'yes' if meta.get('drop_caches') == '1' else 'NO (not permitted)'}; "
      f"snapshots ran with the source in the page cache. Total run time {float(meta['total']) / 60:.1f} min.")
    p("")
    p("Wall and CPU: medians over the repetitions (CPU = user + sys, children included); peak RSS: "
      "the largest over the repetitions; sizes in MB (10^6 bytes), medians. Repository sizes are "
      "`du -sb` of the repository directory, for snapctl without its local `index/` (RocksDB, "
      "rebuildable from the packs; restic's and borg's caches live outside their repositories "
      "and are not counted either; see below). x snapctl = the tool's median / snapctl's.")
    p("")
    p("| step | tool | wall s | x snapctl | CPU s | peak RSS MiB | size MB | x snapctl |")
    p("|---|---|---:|---:|---:|---:|---:|---:|")
    for step, title, key, what in STEPS:
        base_w = wall(step, "snapctl")
        base_b = val(step, "snapctl", key) if key else None
        for tool in TOOLS:
            if (step, tool) not in t:
                continue
            w = wall(step, tool)
            bv = val(step, tool, key) if key else None
            p(f"| {title} | {show(tool)} | {w:.2f} | {fmt_ratio(w / base_w if base_w else None)} | "
              f"{cpu(step, tool):.2f} | {rss(step, tool) / 1024:.0f} | "
              f"{(mb(bv) + ' ' + what) if bv is not None else ''} | "
              f"{fmt_ratio(bv / base_b if (bv is not None and base_b) else None)} |")
            title = ""
    p("")

    # Targets.
    p("### Targets")
    p("")
    p("| target | measured | verdict |")
    p("|---|---|---|")

    def verdict(ok):
        return "met" if ok else "**missed**"

    def row(name, text, ok):
        if ok is None:
            p(f"| {name} | {text} | n/a |")
        else:
            p(f"| {name} | {text} | {verdict(ok)} |")

    sw, rw, tw = wall("initial", "snapctl"), wall("initial", "restic"), wall("initial", "tar|zstd")
    if sw and rw:
        row("initial snapshot >= 3x faster than restic", f"restic / snapctl = {rw / sw:.2f}x", rw / sw >= 3)
    if sw and tw:
        row("initial snapshot within 1.3x of tar \\| zstd -3 -T2", f"snapctl / tar \\| zstd = {sw / tw:.2f}x",
            sw / tw <= 1.3)
    sr, rr = val("initial", "snapctl", "repo"), val("initial", "restic", "repo")
    if sr and rr:
        row("repository no larger than restic's", f"{mb(sr)} MB vs {mb(rr)} MB ({sr / rr:.3f}x)", sr <= rr)
    uw, fw = wall("unchanged", "snapctl"), wall("unchanged", "stat walk")
    if uw and fw:
        row("unchanged re-snapshot within 1.5x of a stat walk", f"{uw:.2f} s vs {fw:.2f} s ({uw / fw:.2f}x)",
            uw / fw <= 1.5)
    sd2, rd2 = val("dump2", "snapctl", "added"), val("dump2", "restic", "added")
    if sd2 is not None and rd2:
        row("second dump adds <= 1/3 of restic's", f"{mb(sd2)} MB vs {mb(rd2)} MB ({sd2 / rd2:.3f}x)",
            sd2 <= rd2 / 3)
    sd1, rd1 = val("dump1", "snapctl", "stored"), val("dump1", "restic", "stored")
    if sd1 and rd1:
        row("first dump stored within 1.2x of restic's", f"{mb(sd1)} MB vs {mb(rd1)} MB ({sd1 / rd1:.3f}x)",
            sd1 <= 1.2 * rd1)
    s_rest = {r[0]: r[1] for r in t.get(("restore", "snapctl"), [])}
    r_rest = {r[0]: r[1] for r in t.get(("restore", "restic"), [])}
    pairs = [r_rest[k] / s_rest[k] for k in s_rest if k in r_rest]
    if pairs:
        row("full restore >= 2x faster than restic (median of paired ratios)",
            f"{med(pairs):.2f}x (pairs: {', '.join(f'{x:.2f}' for x in pairs)})", med(pairs) >= 2)
    snap_rss = [(s, rss(s, tool)) for s, tool in t if tool == "snapctl"]
    peak = max(snap_rss, key=lambda x: x[1]) if snap_rss else None
    if peak:
        row("peak RSS <= 150 MiB", f"max {peak[1] / 1024:.0f} MiB ({peak[0]})", peak[1] / 1024 <= 150)
    r1, r10 = rss("initial", "snapctl"), rss("initial-10x", "snapctl")
    if r1 and r10:
        row(f"peak RSS flat (<= 1.2x) with {int(meta['files10']) // int(meta['files'])}x the small files",
            f"{r1 / 1024:.0f} MiB -> {r10 / 1024:.0f} MiB ({r10 / r1:.2f}x)", r10 / r1 <= 1.2)
    sent = b.get(("replicate-1%", "snapctl", "bytes_sent"), {})
    added = b.get(("change1", "snapctl", "pack_added"), {})
    ratios = [sent[k] / added[k] for k in sent if added.get(k)]
    if ratios:
        row("replicating the 1% change sends <= 1.1x the bytes it added",
            f"median {med(ratios):.3f}x ({mb(med(list(sent.values())))} MB sent, "
            f"{mb(med(list(added.values())))} MB of packs added)", med(ratios) <= 1.1)
    rep_w = {r[0]: r[1] for r in t.get(("replicate-1%", "snapctl"), [])}
    snap_w = {r[0]: r[1] for r in t.get(("change1", "snapctl"), [])}
    tr = [rep_w[k] / snap_w[k] for k in rep_w if k in snap_w]
    if tr:
        row("... in less time than the snapshot took",
            f"median {med(tr):.2f}x ({wall('replicate-1%', 'snapctl'):.2f} s vs "
            f"{wall('change1', 'snapctl'):.2f} s)", med(tr) < 1)
    p("")

    # Details.
    p("### Details")
    p("")
    lb = [(tool, val("initial", tool, "local")) for tool in ("snapctl", "restic", "borg")]
    p("Local index/cache after the initial snapshot (not in the sizes above): " +
      ", ".join(f"{tool} {mb(v)} MB" for tool, v in lb if v is not None) +
      " (snapctl: REPO/index; restic: its cache dir; borg: its cache dir).")
    p("")
    for s, title in (("replicate-initial", "initial"), ("replicate-unchanged", "unchanged"),
                     ("replicate-1%", "1% changed")):
        if (s, "snapctl") in t:
            p(f"- replication of the {title} snapshot: {wall(s, 'snapctl'):.2f} s, "
              f"{cpu(s, 'snapctl'):.2f} s CPU (snapctl side only; replicad ran on the same cores), "
              f"{mb(val(s, 'snapctl', 'bytes_sent'))} MB on the wire, "
              f"{mb(val(s, 'snapctl', 'frame_bytes'))} MB of pack frames")
    if ("initial-10x", "snapctl") in t:
        p(f"- {int(meta['files10']):,} small files ({int(meta['tree10_bytes']) / 1e6:,.0f} MB) + media: "
          f"snapctl initial snapshot {wall('initial-10x', 'snapctl'):.2f} s, peak RSS "
          f"{rss('initial-10x', 'snapctl') / 1024:.0f} MiB (vs {rss('initial', 'snapctl') / 1024:.0f} MiB "
          f"with {int(meta['files']):,}); unchanged re-snapshot {wall('unchanged-10x', 'snapctl'):.2f} s, "
          f"peak RSS {rss('unchanged-10x', 'snapctl') / 1024:.0f} MiB, vs a stat walk "
          f"{wall('unchanged-10x', 'stat walk'):.2f} s")
    p(f"- dump v2 differs from v1 in 1% of its rows (changed in place, same length) plus a few "
      f"inserted rows ({int(meta['dump2_bytes']) - int(meta['dump_bytes'])} bytes longer)")
    p("")
    p("<details><summary>raw measurements</summary>")
    p("")
    p("```")
    p("step\ttool\trep\twall_s\tuser_s\tsys_s\trss_kb")
    p(open(argv[1]).read().rstrip())
    p("")
    p("step\ttool\trep\tkey\tvalue")
    p(open(argv[2]).read().rstrip())
    p("```")
    p("</details>")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
