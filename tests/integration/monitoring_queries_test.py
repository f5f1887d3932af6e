#!/usr/bin/python3
"""Every query of the Grafana dashboards in deploy/grafana/dashboards/ and every expression of the
alerting rules in deploy/prometheus/ names series that a running perfcast-server really exports,
with labels and label values it really has (promql_references.py holds the checker).

Starts a server (perfcast_test_server.py), scrapes its /metrics once and checks each query
against that scrape. Without a server: the dashboards read their datasource from a variable,
define every variable their queries use, and every query parses (`promtool check rules` over
the queries written as recording rules).
Needs PERFCAST_SERVER_BINARY and PERFCAST_PROMTOOL (CTest sets them).
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_test_server import PerfcastTestServer  # noqa: E402
from promql_references import (Exposition, expression_problems, references,  # noqa: E402
                               variable_query_problems)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DASHBOARDS = sorted(glob.glob(os.path.join(ROOT, "deploy", "grafana", "dashboards", "*.json")))
RULE_FILES = sorted(glob.glob(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")))
DATASOURCE_VARIABLE = "${datasource}"
HTTP_TIMEOUT_SECONDS = 10.0
_VARIABLE_USE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def load_dashboard(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def panels(dashboard: dict):
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def panel_queries(path: str) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target of the dashboard at path."""
    name = os.path.basename(path)
    return [(f"{name}: panel {panel['title']!r} query {target['refId']}", target["expr"])
            for panel in panels(load_dashboard(path)) for target in panel.get("targets", [])]


def variable_queries(path: str) -> list[tuple[str, str]]:
    name = os.path.basename(path)
    found = []
    for variable in load_dashboard(path).get("templating", {}).get("list", []):
        if variable["type"] != "query":
            continue
        query = variable["query"]
        found.append((f"{name}: variable {variable['name']!r}",
                      query["query"] if isinstance(query, dict) else query))
    return found


def rule_expressions(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as f:
        groups = yaml.safe_load(f)["groups"]
    return [(f"{os.path.basename(path)}: {rule.get('alert') or rule.get('record')}", rule["expr"])
            for group in groups for rule in group["rules"]]


class DashboardFileTest(unittest.TestCase):
    def test_there_are_dashboards_with_queries(self):
        self.assertTrue(DASHBOARDS, "no dashboard under deploy/grafana/dashboards")
        for path in DASHBOARDS:
            with self.subTest(dashboard=os.path.basename(path)):
                self.assertGreater(len(panel_queries(path)), 10)

    def test_panel_ids_are_unique_and_every_panel_has_queries(self):
        for path in DASHBOARDS:
            dashboard = load_dashboard(path)
            ids = [panel["id"] for panel in panels(dashboard)]
            self.assertEqual(len(ids), len(set(ids)), f"{path}: panel ids repeat")
            self.assertTrue(dashboard.get("uid"), f"{path}: no uid, so every import is a copy")
            for panel in panels(dashboard):
                if panel["type"] != "row":
                    with self.subTest(dashboard=os.path.basename(path), panel=panel["title"]):
                        self.assertTrue(panel.get("targets"))
                        self.assertTrue(all(t.get("expr") for t in panel["targets"]))

    def test_queries_read_the_datasource_variable(self):
        # A fixed datasource uid would tie the dashboard to one Grafana's datasource.
        for path in DASHBOARDS:
            dashboard = load_dashboard(path)
            [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
            self.assertEqual((variable["name"], variable["query"]), ("datasource", "prometheus"))
            for panel in panels(dashboard):
                if panel["type"] == "row":
                    continue
                for source in [panel] + panel["targets"]:
                    with self.subTest(dashboard=os.path.basename(path), panel=panel["title"]):
                        self.assertEqual(source["datasource"]["uid"], DATASOURCE_VARIABLE)

    def test_every_variable_a_query_uses_is_defined(self):
        for path in DASHBOARDS:
            defined = {v["name"] for v in load_dashboard(path)["templating"]["list"]}
            for where, expr in panel_queries(path) + variable_queries(path):
                used = {a or b for a, b in _VARIABLE_USE.findall(expr)}
                with self.subTest(query=where):
                    self.assertEqual({u for u in used if not u.startswith("__")} - defined, set())

    def test_promtool_parses_every_query(self):
        queries = [(where, re.sub(r"\$\{?__\w+\}?", "5m", expr))
                   for path in DASHBOARDS for where, expr in panel_queries(path)]
        rules = {"groups": [{"name": "dashboard_queries", "rules": [
            {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]}]}
        promtool = os.environ.get("PERFCAST_PROMTOOL") or "/usr/bin/promtool"
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump(rules, f)
            f.flush()
            result = subprocess.run([promtool, "check", "rules", f.name], capture_output=True,
                                    text=True, timeout=60, check=False)
        index = "\n".join(f"dashboard:query_{i} = {where}" for i, (where, _) in enumerate(queries))
        self.assertEqual(result.returncode, 0, f"{result.stdout}{result.stderr}\n{index}")


class ScrapedSeriesTest(unittest.TestCase):
    """The queries against one scrape of a freshly started server. Every series the dashboards
    and rules use is created at start (counters at zero), so no traffic is needed first."""

    @classmethod
    def setUpClass(cls):
        with PerfcastTestServer() as server:
            server.wait_until_serving()
            with urllib.request.urlopen(server.metrics_url, timeout=HTTP_TIMEOUT_SECONDS) as r:
                cls.scrape_text = r.read().decode("utf-8")
        cls.scrape = Exposition.parse(cls.scrape_text)

    def assert_no_problems(self, queries: list[tuple[str, str]], check) -> None:
        self.assertTrue(queries)
        problems = [f"{where}: {problem}\n    {expr}"
                    for where, expr in queries for problem in check(expr, self.scrape)]
        if problems:
            self.fail("queries naming what the server does not export:\n" + "\n".join(problems))

    def test_the_scrape_has_perfcast_series(self):
        self.assertIn("perfcast_model_version", self.scrape.series, self.scrape_text[:2000])
        self.assertEqual(self.scrape.types.get("grpc_server_handling_seconds"), "histogram")

    def test_every_dashboard_query_names_scraped_series(self):
        self.assert_no_problems([q for path in DASHBOARDS for q in panel_queries(path)],
                                expression_problems)

    def test_every_dashboard_variable_names_scraped_series(self):
        self.assert_no_problems([q for path in DASHBOARDS for q in variable_queries(path)],
                                variable_query_problems)

    def test_every_alert_expression_names_scraped_series(self):
        self.assert_no_problems([q for path in RULE_FILES for q in rule_expressions(path)],
                                expression_problems)

    def test_a_query_broken_on_purpose_is_caught(self):
        # The first dashboard query with its first metric misspelt, then with a label value
        # the server does not use: the same check must fail on both.
        where, expr = panel_queries(DASHBOARDS[0])[0]
        metric = references(expr).selectors[0].metric
        misspelt = expr.replace(metric, metric + "s", 1)
        self.assertTrue(expression_problems(misspelt, self.scrape), f"{where}: {misspelt}")
        wrong_value = 'sum(rate(perfcast_refits_total{outcome="failed"}[5m]))'
        self.assertTrue(expression_problems(wrong_value, self.scrape))


if __name__ == "__main__":
    unittest.main(verbosity=2)
