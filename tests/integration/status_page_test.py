#!/usr/bin/python3
"""The status page of a running perfcast-server, as a browser draws it (Debian's `chromium`).

Starts the server (seeded with one model's rows of the default data), then loads into headless
Chromium
- `/`: the serving model version the page shows is the one GetModelStatus reports, and the
  curve explorer lists the configuration queried below;
- a curve explorer URL for H100 x1 / vLLM / Llama-3-8B / fp16 at 1024/1024 tokens: the DOM
  Chromium built holds one inline SVG with one interval band, one predicted curve and one dot per
  measured point of that configuration and shape in the seed data, one series per campaign; a
  screenshot of it is a PNG;
- a URL with a bad field: HTTP 400, and the page Chromium shows names the field.
Needs PERFCAST_SERVER_BINARY, PERFCAST_SEED_DATA and PERFCAST_CHROMIUM (CTest sets them).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_client import Client  # noqa: E402
from perfcast_test_server import PerfcastTestServer, require_env  # noqa: E402

CHROMIUM_TIMEOUT_SECONDS = 90.0
HTTP_TIMEOUT_SECONDS = 10.0

SYSTEM = {"hardware": "NVIDIA H100", "num_gpus": "1", "framework": "vllm",
          "model": "meta-llama/Meta-Llama-3-8B", "precision": "fp16"}
SYSTEM_KEY = "NVIDIA H100 x1 | vllm | meta-llama/Meta-Llama-3-8B | fp16"
SHAPE = {"input_tokens": "1024", "output_tokens": "1024"}


def chromium() -> str:
    path = os.environ.get("PERFCAST_CHROMIUM") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} not found: apt-get install chromium")
    return path


def run_chromium(*arguments: str) -> str:
    """Runs headless Chromium with a profile of its own; returns its stdout."""
    with tempfile.TemporaryDirectory(prefix="perfcast-chromium-") as profile:
        done = subprocess.run(
            [chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}", *arguments],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=CHROMIUM_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]!r}")
    return done.stdout.decode("utf-8", "replace")


class Elements(HTMLParser):
    """Every start tag of a document with its attributes, and the text inside each class."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_by_class: dict[str, list[str]] = {}
        self._open_classes: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        self._open_classes.append(attributes.get("class", ""))

    def handle_endtag(self, tag):
        if self._open_classes:
            self._open_classes.pop()

    def handle_data(self, data):
        if self._open_classes and self._open_classes[-1]:
            self.text_by_class.setdefault(self._open_classes[-1], []).append(data)

    def with_class(self, tag: str, css_class: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and css_class in a.get("class", "").split()]


def measured_points_in_seed() -> dict[str, int]:
    """Distinct batch sizes per campaign of SYSTEM and SHAPE in the rows the server was seeded
    with (PerfcastTestServer keeps its SEED_MODELS' rows)."""
    points: dict[str, set[str]] = {}
    with open(require_env("PERFCAST_SEED_DATA"), newline="") as f:
        for row in csv.DictReader(f):
            if all(row[k] == v for k, v in {**SYSTEM, **SHAPE}.items()) and \
                    row["batch_semantics"] == "static":
                points.setdefault(row["source"], set()).add(row["batch_size"])
    return {campaign: len(sizes) for campaign, sizes in points.items()}


class StatusPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = PerfcastTestServer()
        cls.server.start()
        cls.server.wait_until_serving()
        cls.page_url = f"http://127.0.0.1:{cls.server.metrics_port}/"

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_page_shows_the_serving_version_and_lists_configurations(self):
        with Client(self.server.target) as client:
            serving = client.status().serving_version
        self.assertIsNotNone(serving)

        page = Elements(run_chromium("--dump-dom", self.page_url))

        shown = "".join(page.text_by_class.get("serving-version", []))
        self.assertEqual(shown, str(serving))
        options = [a.get("value") for t, a in page.tags if t == "option"]
        self.assertIn(SYSTEM_KEY, options)
        self.assertTrue(page.with_class("tr", "version"), "no model version row")
        self.assertEqual(page.with_class("svg", "perfcast-chart"), [])  # no curve asked yet

    def test_curve_explorer_draws_the_band_the_curve_and_every_measured_point(self):
        query = urllib.parse.urlencode({"system": SYSTEM_KEY, **SHAPE, "confidence": "0.9"})
        url = f"{self.page_url}?{query}"
        expected = measured_points_in_seed()
        self.assertTrue(expected, "the seed data lost the measured curve this test draws")

        page = Elements(run_chromium("--dump-dom", url))

        self.assertEqual(len(page.with_class("svg", "perfcast-chart")), 1)
        bands = page.with_class("polygon", "band")
        self.assertEqual(len(bands), 1)
        self.assertEqual(bands[0].get("data-series"), "90% interval")
        self.assertGreater(len(bands[0].get("points", "").split()), 4)
        lines = page.with_class("polyline", "line")
        self.assertEqual([line.get("data-series") for line in lines], ["predicted"])
        series = page.with_class("g", "markers")
        self.assertEqual(sorted(s.get("data-series") for s in series),
                         sorted(f"measured, {campaign}" for campaign in expected))
        self.assertEqual(len(page.with_class("circle", "point")), sum(expected.values()))

        with tempfile.TemporaryDirectory(prefix="perfcast-shot-") as directory:
            shot = os.path.join(directory, "curve.png")
            run_chromium(f"--screenshot={shot}", "--window-size=1200,1800", url)
            with open(shot, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_a_bad_field_gets_400_naming_it(self):
        query = urllib.parse.urlencode({"system": SYSTEM_KEY, "input_tokens": "12abc",
                                        "output_tokens": "1024"})
        url = f"{self.page_url}?{query}"
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS)
        self.assertEqual(refused.exception.code, 400)

        page = Elements(run_chromium("--dump-dom", url))

        message = "".join(page.text_by_class.get("error", []))
        self.assertIn("input_tokens: '12abc' is not a whole number", message)
        self.assertEqual(page.with_class("svg", "perfcast-chart"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
