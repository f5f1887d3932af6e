#!/usr/bin/env python3
"""Median and p90 APE of `perfcast eval --protocol new-config --points CSV`, by kind of sibling
and by how rare the held-out configuration's hardware and model are.

Each held-out configuration counts under every field (hardware, GPU count, framework, model,
precision) in which some other configuration of the data differs from it alone: where a
configuration has a sibling that differs only in its GPU count, the GPU-count row shows how well
that kind of step is predicted. A second table groups the configurations by how many other
configurations share their hardware, and by how many share their model: the fewer, the less the
training data says about that hardware or model, and the more a datasheet has to. Prints
Markdown tables, one column per method in the file.

usage: bench/new_config_by_sibling.py POINTS_CSV
"""
import csv
import sys
from collections import defaultdict

FIELDS = ["hardware", "num_gpus", "framework", "model", "precision"]
RARITY_BUCKETS = [(0, 2, "0-2"), (3, 9, "3-9"), (10, None, "10 or more")]


def percentile(sorted_values, q):
    """Linear interpolation between closest ranks, as `perfcast eval` computes its p90."""
    rank = q * (len(sorted_values) - 1)
    lo = int(rank)
    if lo + 1 >= len(sorted_values):
        return sorted_values[-1]
    return sorted_values[lo] + (rank - lo) * (sorted_values[lo + 1] - sorted_values[lo])


def ape(point):
    return abs(float(point["predicted_tokens_per_s"]) / float(point["measured_tokens_per_s"]) - 1) * 100


def cells(values_by_method, methods):
    out = []
    for m in methods:
        v = sorted(values_by_method[m])
        out.append(f"{percentile(v, 0.5):.2f}% / {percentile(v, 0.9):.2f}% ({len(v)})" if v else "-")
    return " | ".join(out)


def header(first_columns, methods):
    return ("| " + " | ".join(first_columns) + " | " +
            " | ".join(f"{m}: median / p90 APE (points)" for m in methods) + " |\n" +
            "|---" * len(first_columns) + "|" + "---|" * len(methods))


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
        for group in ["all"] + labels[c]:
            errors[group][p["method"]].append(ape(p))

    print(header(["sibling differs only in", "configurations"], methods))
    for group in ["all"] + FIELDS + ["no one-field sibling"]:
        if group not in errors:
            continue
        count = sum(1 for c in configurations if group == "all" or group in labels[c])
        print(f"| {group} | {count} | " + cells(errors[group], methods) + " |")

    print()
    print(header(["other configurations with the same", "count", "configurations"], methods))
    for field in ["hardware", "model"]:
        i = FIELDS.index(field)
        sharing = {c: sum(1 for o in configurations if o != c and o[i] == c[i])
                   for c in configurations}
        for low, high, name in RARITY_BUCKETS:
            inside = {c for c in configurations
                      if sharing[c] >= low and (high is None or sharing[c] <= high)}
            if not inside:
                continue
            by_method = defaultdict(list)
            for p in points:
                if p["predicted_tokens_per_s"] and tuple(p[f] for f in FIELDS) in inside:
                    by_method[p["method"]].append(ape(p))
            print(f"| {field} | {name} | {len(inside)} | " + cells(by_method, methods) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
