#!/usr/bin/env python3
"""Median and p90 APE of `perfcast eval --protocol new-config --points CSV`, by kind of sibling.

Each held-out configuration counts under every field (hardware, GPU count, framework, model,
precision) in which some other configuration of the data differs from it alone: where a
configuration has a sibling that differs only in its GPU count, the GPU-count row shows how well
that kind of step is predicted. Prints a Markdown table, one column per method in the file.

usage: bench/new_config_by_sibling.py POINTS_CSV
"""
import csv
import sys
from collections import defaultdict

FIELDS = ["hardware", "num_gpus", "framework", "model", "precision"]


def percentile(sorted_values, q):
    """Linear interpolation between closest ranks, as `perfcast eval` computes its p90."""
    rank = q * (len(sorted_values) - 1)
    lo = int(rank)
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    return sorted_values[lo] + (rank - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def main(path):
    points = [p for p in csv.DictReader(open(path, newline="")) if p["protocol"] == "new-config"]
    configurations = {tuple(p[f] for f in FIELDS) for p in points}

    def sibling_fields(c):
        return [field for i, field in enumerate(FIELDS)
                if any(o != c and all(o[j] == c[j] for j in range(len(FIELDS)) if j != i)
                       for o in configurations)] or ["no one-field sibling"]

    labels = {c: sibling_fields(c) for c in configurations}
    methods = list(dict.fromkeys(p["method"] for p in points))
    errors = defaultdict(lambda: defaultdict(list))
    for p in points:
        if not p["predicted_tokens_per_s"]:
            continue  # declined
        c = tuple(p[f] for f in FIELDS)
        ape = abs(float(p["predicted_tokens_per_s"]) / float(p["measured_tokens_per_s"]) - 1) * 100
        for group in ["all"] + labels[c]:
            errors[group][p["method"]].append(ape)

    print("| sibling differs only in | configurations | " +
          " | ".join(f"{m}: median / p90 APE (points)" for m in methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for group in ["all"] + FIELDS + ["no one-field sibling"]:
        if group not in errors:
            continue
        count = sum(1 for c in configurations if group == "all" or group in labels[c])
        cells = []
        for m in methods:
            v = sorted(errors[group][m])
            cells.append(f"{percentile(v, 0.5):.2f}% / {percentile(v, 0.9):.2f}% "
                         f"({len(v)})" if v else "-")
        print(f"| {group} | {count} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
