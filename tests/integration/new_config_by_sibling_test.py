"""bench/new_config_by_sibling.py groups held-out configurations by the field their one-field
siblings differ in, and by how many other configurations share their hardware and model, and
computes median APE per method."""

import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "bench", "new_config_by_sibling.py")
HEADER = ("protocol,method,hardware,num_gpus,framework,model,precision,input_tokens,"
          "output_tokens,batch_size,measured_tokens_per_s,predicted_tokens_per_s,"
          "lower_tokens_per_s,upper_tokens_per_s,expected_relative_error\n")


def row(method, hardware, gpus, model, predicted):
    return f"new-config,{method},{hardware},{gpus},vllm,{model},fp16,128,128,1,100,{predicted},,,\n"


def run_script(rows):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(HEADER + "".join(rows))
    try:
        return subprocess.run([sys.executable, SCRIPT, f.name], capture_output=True, text=True,
                              check=True).stdout
    finally:
        os.unlink(f.name)


class NewConfigBySiblingTest(unittest.TestCase):
    def test_groups_by_how_many_other_configurations_share_hardware_and_model(self):
        # Hardware A in five configurations (four others each: "3-9"), C in one (none: "0-2");
        # model m1 in four of them, m2 and m3 in one each. Errors 10%, 20%, ... 60%.
        rows = [row("x", "A", 1, "m1", 110), row("x", "A", 2, "m1", 120),
                row("x", "A", 4, "m1", 130), row("x", "A", 8, "m1", 140),
                row("x", "A", 1, "m2", 150), row("x", "C", 1, "m3", 160)]
        lines = run_script(rows).splitlines()

        self.assertIn("| hardware | 0-2 | 1 | 60.00% / 60.00% (1) |", lines)
        # A's five: median of 10..50 is 30, p90 interpolated 46.
        self.assertIn("| hardware | 3-9 | 5 | 30.00% / 46.00% (5) |", lines)
        # m2 and m3 (no other configuration each): 50% and 60%; m1's four (three others each).
        self.assertIn("| model | 0-2 | 2 | 55.00% / 59.00% (2) |", lines)
        self.assertIn("| model | 3-9 | 4 | 25.00% / 37.00% (4) |", lines)
        self.assertNotIn("| hardware | 10 or more", "\n".join(lines))

    def test_groups_by_the_field_of_each_one_field_sibling(self):
        # A/1/m1 and A/2/m1 differ in GPU count; A/1/m1 and B/1/m1 in hardware; B/4/m2 has no
        # one-field sibling. The method "x" errs by 10%, 20%, 30%, 40%; "y" declines one point.
        rows = [row("x", "A", 1, "m1", 110), row("x", "A", 2, "m1", 120),
                row("x", "B", 1, "m1", 130), row("x", "B", 4, "m2", 140),
                row("y", "A", 1, "m1", 100), row("y", "A", 2, "m1", ""),
                row("y", "B", 1, "m1", 100), row("y", "B", 4, "m2", 100)]
        out = run_script(rows).split("\n\n")[0]  # the first table
        lines = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines()}
        # all: x's median of 10, 20, 30, 40 is 25, its p90 37 (interpolated as `perfcast eval`
        # does); y predicted three points exactly.
        self.assertIn("| all | 4 | 25.00% / 37.00% (4) | 0.00% / 0.00% (3) |", lines["all"])
        # hardware siblings: A/1/m1 (10%) and B/1/m1 (30%).
        self.assertIn("| hardware | 2 | 20.00% / 28.00% (2) |", lines["hardware"])
        # GPU-count siblings: A/1/m1 (10%) and A/2/m1 (20%, declined by y).
        self.assertIn("| num_gpus | 2 | 15.00% / 19.00% (2) | 0.00% / 0.00% (1) |",
                      lines["num_gpus"])
        self.assertIn("| no one-field sibling | 1 | 40.00% / 40.00% (1) |",
                      lines["no one-field sibling"])
        self.assertNotIn("framework", lines)


if __name__ == "__main__":
    unittest.main()
