#!/usr/bin/env python3
"""Lists names in data/default_benchmarks.csv that do not resolve to a catalogue entry, and
prints the merged file's row and curve counts. Standard library only.

Resolution follows data/catalogue/README.md: an entry name or an alias, ignoring case and outer
spaces; a framework name also with a trailing version left off. Rows the C++ reader filters
(llama-bench prompt-chunk rows) are counted but not required to resolve precision/framework.
Exit status 1 when a hardware or model name does not resolve (what catalogue_test checks).
"""
import collections
import csv
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAT = os.path.join(ROOT, "data", "catalogue")


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def norm(s):
    return s.strip().lower()


def catalogue():
    names = {
        "accelerator": {norm(r["name"]) for r in read(os.path.join(CAT, "accelerators.csv"))},
        "model": {norm(r["name"]) for r in read(os.path.join(CAT, "models.csv"))},
        "precision": {norm(r["name"]) for r in read(os.path.join(CAT, "precisions.csv"))},
        "framework": {norm(r["name"]) for r in read(os.path.join(CAT, "frameworks.csv"))},
    }
    for a in read(os.path.join(CAT, "aliases.csv")):
        if norm(a["entry"]) in names[a["kind"]]:
            names[a["kind"]].add(norm(a["alias"]))
        else:
            print("alias to a missing entry: %r" % a, file=sys.stderr)
    return names


def resolves(names, kind, name):
    n = norm(name)
    if n in names[kind]:
        return True
    if kind == "framework":
        stripped = re.sub(r"[\s\-_]*v?\d[\w.+\-]*$", "", n).strip()
        return stripped in names[kind]
    return False


def main():
    names = catalogue()
    rows = read(os.path.join(ROOT, "data", "default_benchmarks.csv"))
    missing = collections.defaultdict(collections.Counter)
    per_campaign = collections.Counter()
    per_sem = collections.Counter()
    curves = collections.defaultdict(set)
    for r in rows:
        per_campaign[r["source"]] += 1
        per_sem[(r["source"], r["batch_semantics"])] += 1
        curves[r["source"]].add((r["hardware"], r["num_gpus"], r["framework"], r["model"],
                                 r["precision"], r["input_tokens"], r["output_tokens"]))
        for kind, col in (("accelerator", "hardware"), ("model", "model"),
                          ("precision", "precision"), ("framework", "framework")):
            if not resolves(names, kind, r[col]):
                missing[kind][(r[col] or "(empty)", r["source"])] += 1
    print("rows per campaign:")
    for k, v in per_campaign.items():
        print("  %-40s %6d rows %5d curves" % (k, v, len(curves[k])))
    print("  %-40s %6d rows %5d curves" % ("total", len(rows),
                                            len(set().union(*curves.values()))))
    print("rows per campaign and batch semantics:")
    for (c, s), v in per_sem.items():
        print("  %-40s %-50s %6d" % (c, s, v))
    fail = False
    for kind in ("accelerator", "model", "precision", "framework"):
        for (name, src), n in sorted(missing[kind].items()):
            print("UNRESOLVED %s %r (%s, %d rows)" % (kind, name, src, n))
            fail = fail or kind in ("accelerator", "model")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
