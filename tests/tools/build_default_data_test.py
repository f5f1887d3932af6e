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


def choose(rows_with_layouts, counts):
    return build.fastest_layout_per_point([layout for layout, _ in rows_with_layouts],
                                          [r for _, r in rows_with_layouts], counts, "c")


class FastestLayoutPerPointTest(unittest.TestCase):
    def test_the_median_decides_not_the_mean_or_the_largest(self):
        rows = [("ep", row(8, 100)), ("ep", row(8, 100)), ("ep", row(8, 400)),
                ("tp", row(8, 150)), ("tp", row(8, 150))]
        kept = choose(rows, build.Counts())
        self.assertEqual([float(r["output_tokens_per_s"]) for r in kept], [150, 150])

    def test_a_tie_goes_to_the_same_layout_whatever_the_order(self):
        for rows in ([("ep", row(8, 100)), ("tp", row(8, 100, notes="tp"))],
                     [("tp", row(8, 100, notes="tp")), ("ep", row(8, 100))]):
            kept = choose(rows, build.Counts())
            self.assertEqual(len(kept), 1)
            self.assertTrue(kept[0]["notes"].startswith("tp"))

    def test_layouts_and_rows_must_pair_up(self):
        with self.assertRaises(ValueError):
            build.fastest_layout_per_point(["tp"], [row(8, 1), row(8, 2)], build.Counts(), "c")

    def test_a_double_counted_layout_is_read_as_the_deployment_it_was(self):
        # The three recorded forms of TP 4 with EP 4 on 4 GPUs (raw README, "Layout problems").
        def recorded(tp, dp, moe_tp, moe_ep):
            return {"tp": tp, "pp": "1", "attention_dp": dp, "moe_tp": moe_tp, "moe_ep": moe_ep,
                    "layout_flag": "ep_double_counted"}
        for form in (recorded("16", "1", "4", "4"), recorded("4", "4", "1", "16")):
            self.assertEqual(build.aiconfigurator_layout(form, "4"), (4, 1, 1, 1, 4))
        self.assertEqual(build.aiconfigurator_layout(recorded("1", "16", "4", "4"), "4"),
                         (1, 1, 4, 1, 4))
        unflagged = dict(recorded("4", "", "1", "4"), layout_flag="")
        self.assertEqual(build.aiconfigurator_layout(unflagged, "4"), (4, 1, 1, 1, 4))
        # A form the raw README does not describe is refused, not guessed.
        with self.assertRaises(ValueError):
            build.aiconfigurator_layout(recorded("8", "1", "4", "4"), "4")

    def test_keeps_every_repeat_of_the_layout_with_the_highest_median(self):
        counts = build.Counts()
        rows = [("ep", row(8, 100)), ("tp", row(8, 90)), ("ep", row(8, 300)),
                ("tp", row(8, 120)), ("ep", row(8, 110))]
        kept = choose(rows, counts)
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
        kept = choose(rows, counts)
        self.assertEqual([(r["num_gpus"], r["batch_size"], r["output_tokens_per_s"]) for r in kept],
                         [("4", "8", "200"), ("4", "16", "300"), ("8", "8", "50")])
        self.assertEqual(kept[2]["notes"], "")

    def test_a_point_of_one_layout_is_untouched(self):
        counts = build.Counts()
        rows = [("tp", row(8, 100, notes="a")), ("tp", row(8, 90, notes="b"))]
        kept = choose(rows, counts)
        self.assertEqual([r["notes"] for r in kept], ["a", "b"])
        self.assertNotIn("c", counts.c)


def aiconfigurator_layout_of(r):
    """The layout the tool keys an AIConfigurator row by, read back from its notes."""
    match = re.search(r"tp(\d*) pp(\d*) attention_dp(\d*) moe_tp(\d*) moe_ep(\d*)", r["notes"])
    if match is None:
        return None
    flag = re.search(r"layout_flag (\S+)", r["notes"])
    recorded = dict(zip(("tp", "pp", "attention_dp", "moe_tp", "moe_ep"), match.groups()),
                    layout_flag=flag.group(1).rstrip(";") if flag else "")
    return build.aiconfigurator_layout(recorded, r["num_gpus"])


def inferencemax_layout_of(r):
    match = re.search(r"tp(\S*) ep(\S*) dp_attention=(\S*)", r["notes"])
    return None if match is None else match.groups()


class ShippedDataTest(unittest.TestCase):
    LAYOUT_OF = {"aiconfigurator-silicon": aiconfigurator_layout_of,
                 "inferencemax": inferencemax_layout_of}

    def check(self, path, campaigns):
        layouts = {}
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r["source"] not in campaigns:
                    continue
                layout = self.LAYOUT_OF[r["source"]](r)
                self.assertIsNotNone(layout, "%s: a row without its layout" % path)
                layouts.setdefault((r["source"],) + tuple(r[c] for c in POINT), set()).add(layout)
        self.assertTrue(layouts, path)
        several = [p for p, s in layouts.items() if len(s) > 1]
        self.assertEqual(several, [], "%s: points measured in several layouts" % path)

    def test_no_point_is_measured_in_two_layouts(self):
        for campaign in self.LAYOUT_OF:
            self.check(ROOT / "data" / "campaigns" / (campaign + ".csv"), {campaign})
        self.check(ROOT / "data" / "default_benchmarks.csv", set(self.LAYOUT_OF))


if __name__ == "__main__":
    unittest.main()
