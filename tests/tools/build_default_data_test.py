#!/usr/bin/env python3
"""Tests tools/build_default_data.py's choice of one parallel layout per point, and that the
shipped data keep it: a point measured in two layouts would be merged by its median into a figure
neither layout measured (data/README.md, "One layout per point").

Usage: build_default_data_test.py REPOSITORY_ROOT
"""
import csv
import importlib.util
import pathlib
import re
import sys
import unittest

ROOT = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else ".").resolve()
spec = importlib.util.spec_from_file_location("build_default_data",
                                              ROOT / "tools" / "build_default_data.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)

POINT = ("hardware", "num_gpus", "framework", "model", "precision", "input_tokens",
         "output_tokens", "batch_semantics", "batch_size")


def row(batch, throughput, notes="", num_gpus="4"):
    r = {c: "" for c in build.COLUMNS}
    r.update(hardware="NVIDIA B200 SXM 180GB", num_gpus=num_gpus, framework="sglang",
             model="deepseek-ai/DeepSeek-R1", precision="fp4", input_tokens="1024",
             output_tokens="1024", batch_semantics="concurrency", batch_size=str(batch),
             output_tokens_per_s=str(throughput), notes=notes)
    return r


class FastestLayoutPerPointTest(unittest.TestCase):
    def test_keeps_every_repeat_of_the_layout_with_the_highest_median(self):
        counts = build.Counts()
        rows = [("ep", row(8, 100)), ("tp", row(8, 90)), ("ep", row(8, 300)),
                ("tp", row(8, 120)), ("ep", row(8, 110))]
        kept = build.fastest_layout_per_point(rows, counts, "c")
        # ep's median is 110, tp's 105: ep's three rows stay, tp's two go.
        self.assertEqual(sorted(float(r["output_tokens_per_s"]) for r in kept), [100, 110, 300])
        self.assertTrue(all("fastest of 2 layouts" in r["notes"] for r in kept))
        self.assertEqual(counts.c["c"]["dropped: another layout measured faster at the same point"],
                         2)
        self.assertEqual(counts.c["c"]["kept"], -2)

    def test_points_and_configurations_are_chosen_apart(self):
        counts = build.Counts()
        rows = [("tp", row(8, 100)), ("ep", row(8, 200)),  # ep wins at batch 8
                ("tp", row(16, 300)), ("ep", row(16, 250)),  # tp at 16
                ("tp", row(8, 50, num_gpus="8"))]  # another configuration, alone
        kept = build.fastest_layout_per_point(rows, counts, "c")
        self.assertEqual([(r["num_gpus"], r["batch_size"], r["output_tokens_per_s"]) for r in kept],
                         [("4", "8", "200"), ("4", "16", "300"), ("8", "8", "50")])
        self.assertEqual(kept[2]["notes"], "")

    def test_a_point_of_one_layout_is_untouched(self):
        counts = build.Counts()
        rows = [("tp", row(8, 100, notes="a")), ("tp", row(8, 90, notes="b"))]
        kept = build.fastest_layout_per_point(rows, counts, "c")
        self.assertEqual([r["notes"] for r in kept], ["a", "b"])
        self.assertNotIn("c", counts.c)


class ShippedDataTest(unittest.TestCase):
    # How each campaign records its layout in `notes` (an empty degree is 1).
    LAYOUTS = {
        "aiconfigurator-silicon": r"tp(\d*) pp(\d*) attention_dp(\d*) moe_tp(\d*) moe_ep(\d*)",
        "inferencemax": r"tp(\S*) ep(\S*) dp_attention=(\S*)",
    }

    def test_no_point_is_measured_in_two_layouts(self):
        for campaign, pattern in self.LAYOUTS.items():
            layouts = {}
            with open(ROOT / "data" / "campaigns" / (campaign + ".csv"), newline="") as f:
                for r in csv.DictReader(f):
                    match = re.search(pattern, r["notes"])
                    self.assertIsNotNone(match, "%s: a row without its layout" % campaign)
                    layout = tuple(g or "1" for g in match.groups())
                    layouts.setdefault(tuple(r[c] for c in POINT), set()).add(layout)
            several = [p for p, s in layouts.items() if len(s) > 1]
            self.assertEqual(several, [], "%s: points measured in several layouts" % campaign)


if __name__ == "__main__":
    unittest.main()
