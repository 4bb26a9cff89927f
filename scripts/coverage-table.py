#!/usr/bin/env python3
"""Line coverage per crate from `cargo llvm-cov report --json --summary-only` (see scripts/coverage).

Prints a Markdown table (crate, lines, covered, %), the crates below the target marked, then the ten least
covered files of each crate below it, so the gaps are named.
"""

import json
import os
import sys

TARGET = 90.0
# Longest prefix first: a file belongs to the crate whose folder holds it.
CRATES = [
    ("libs/common", "iknow-common"),
    ("libs/messaging", "iknow-messaging"),
    ("libs/search", "iknow-search"),
    ("libs/testkit", "iknow-testkit"),
    ("proto", "iknow-proto"),
    ("services/actor-catalog", "actor-catalog"),
    ("services/user-identity", "user-identity"),
    ("services/library", "library"),
    ("services/scraper-ingest", "scraper-ingest"),
    ("gateway", "gateway"),
    ("cli", "iknow (cli)"),
]


def crate_of(path, root):
    rel = os.path.relpath(path, root)
    for folder, name in CRATES:
        if rel.startswith(folder + "/"):
            return name, rel
    return None, rel


def main():
    summary = json.load(open(sys.argv[1]))
    root = os.getcwd()
    per_crate = {}
    files = {}
    for f in summary["data"][0]["files"]:
        name, rel = crate_of(f["filename"], root)
        if name is None:
            continue
        lines = f["summary"]["lines"]
        count, covered = lines["count"], lines["covered"]
        c = per_crate.setdefault(name, [0, 0])
        c[0] += count
        c[1] += covered
        files.setdefault(name, []).append((rel, count, covered))

    print("| crate | lines | covered | line coverage |")
    print("|---|---:|---:|---:|")
    total = [0, 0]
    for _, name in CRATES:
        if name not in per_crate:
            continue
        count, covered = per_crate[name]
        total[0] += count
        total[1] += covered
        pct = 100.0 * covered / count if count else 100.0
        mark = "" if pct >= TARGET or name in ("iknow-testkit", "iknow (cli)") else " (below 90%)"
        print(f"| {name} | {count} | {covered} | {pct:.1f}%{mark} |")
    pct = 100.0 * total[1] / total[0] if total[0] else 100.0
    print(f"| **all** | {total[0]} | {total[1]} | {pct:.1f}% |")

    for _, name in CRATES:
        if name not in per_crate:
            continue
        count, covered = per_crate[name]
        if count and 100.0 * covered / count < TARGET:
            print(f"\nleast covered files of {name}:")
            worst = sorted(files[name], key=lambda f: (f[2] / f[1] if f[1] else 1.0, -f[1]))[:10]
            for rel, n, cov in worst:
                print(f"  {100.0 * cov / n if n else 100.0:5.1f}%  {n - cov:5d} lines uncovered  {rel}")


if __name__ == "__main__":
    main()
