#!/usr/bin/python3
"""Every query of the Grafana dashboards in deploy/grafana/dashboards/ and every expression of the
alerting rules in deploy/prometheus/ names series that a running perfcast-server really exports,
with labels and label values it really has (promql_references.py holds the checker).

Starts a server (perfcast_test_server.py), scrapes its /metrics once and checks each query
against that scrape; then a real Prometheus (Debian's) scrapes the server with the alerting rules
loaded: every dashboard query evaluates without error, every rule evaluates healthy, and no alert
is pending or firing for a healthy server. Without a server: the dashboards read their
datasource from a variable, define every variable their queries use, and every query parses
(`promtool check rules` over the queries written as recording rules).
Needs PERFCAST_SERVER_BINARY, PERFCAST_PROMETHEUS and PERFCAST_PROMTOOL (CTest sets them).
"""

from __future__ import annotations

import datetime
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

from perfcast_test_server import PerfcastTestServer, wait_for  # noqa: E402
from prometheus_scrape_test import JOB, Prometheus, http_get, tool  # noqa: E402
from promql_references import (Exposition, expression_problems, references,  # noqa: E402
                               variable_query_problems)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DASHBOARDS = sorted(glob.glob(os.path.join(ROOT, "deploy", "grafana", "dashboards", "*.json")))
RULE_FILES = sorted(glob.glob(os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")))
DATASOURCE_VARIABLE = "${datasource}"
HTTP_TIMEOUT_SECONDS = 10.0
RULES_EVALUATED_SECONDS = 30.0  # a few evaluation intervals, with room for a loaded CI machine
# What the dashboard's variables and Grafana's interval macros stand for when Prometheus itself
# evaluates a query.
GRAFANA_VALUES = {"job": JOB, "instance": ".*", "__rate_interval": "1m", "__interval": "1m",
                  "__range": "1h"}
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


def rfc3339(text: str) -> datetime.datetime:
    """Prometheus' timestamps carry nanoseconds; datetime takes microseconds."""
    microseconds = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(microseconds)


def with_rules(config_path: str, rule_files: list[str]) -> None:
    """Adds rule_files and a one-second evaluation interval to a Prometheus configuration."""
    with open(config_path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = list(rule_files)
    with open(config_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)


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
        records = [{"record": f"dashboard:query_{i}", "expr": expr}
                   for i, (_, expr) in enumerate(queries)]
        rules = {"groups": [{"name": "dashboard_queries", "rules": records}]}
        promtool = os.environ.get("PERFCAST_PROMTOOL") or "/usr/bin/promtool"
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump(rules, f)
            f.flush()
            result = subprocess.run([promtool, "check", "rules", f.name], capture_output=True,
                                    text=True, timeout=60, check=False)
        index = "\n".join(f"dashboard:query_{i} = {where}" for i, (where, _) in enumerate(queries))
        self.assertEqual(result.returncode, 0, f"{result.stdout}{result.stderr}\n{index}")


class ScrapedSeriesTest(unittest.TestCase):
    """The queries against one scrape of a freshly started server, then evaluated by a real
    Prometheus scraping it. Every series the dashboards and rules use is created at start
    (counters at zero), so no traffic is needed first."""

    @classmethod
    def setUpClass(cls):
        prometheus_binary = tool("PERFCAST_PROMETHEUS", "/usr/bin/prometheus")
        cls.server = PerfcastTestServer()
        cls.server.start()
        cls.prometheus = None
        try:
            cls.server.wait_until_serving()
            with urllib.request.urlopen(cls.server.metrics_url,
                                        timeout=HTTP_TIMEOUT_SECONDS) as response:
                cls.scrape_text = response.read().decode("utf-8")
            cls.scrape = Exposition.parse(cls.scrape_text)
            cls.prometheus = Prometheus(prometheus_binary, f"127.0.0.1:{cls.server.metrics_port}")
            with_rules(cls.prometheus.config, RULE_FILES)
            cls.prometheus.start()
            cls.prometheus.wait_for_sample(f'up{{job="{JOB}"}}', accept=lambda v: v == 1)
            cls.scraped_at = datetime.datetime.now(datetime.timezone.utc)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.prometheus is not None:
            cls.prometheus.stop()
            cls.prometheus = None
        cls.server.cleanup()

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

    def test_prometheus_evaluates_every_dashboard_query(self):
        # Catches what names alone do not: a division whose sides match many-to-many, say.
        failures = []
        for where, expr in [q for path in DASHBOARDS for q in panel_queries(path)]:
            promql = _VARIABLE_USE.sub(lambda m: GRAFANA_VALUES[m.group(1) or m.group(2)], expr)
            try:
                self.prometheus.query(promql)
            except AssertionError as e:
                failures.append(f"{where}: {e}")
        if failures:
            self.fail("\n".join(failures))

    def test_every_rule_evaluates_and_no_alert_fires_for_a_healthy_server(self):
        def evaluated_rules():
            status, _, body = http_get(f"{self.prometheus.url}/api/v1/rules")
            if status != 200:
                return None
            rules = [rule for group in json.loads(body)["data"]["groups"]
                     for rule in group["rules"]]
            # Rules evaluated before the first scrape saw no series at all.
            return rules if rules and all(rfc3339(r["lastEvaluation"]) > self.scraped_at
                                          for r in rules) else None

        rules = wait_for(evaluated_rules, "an evaluation of every rule after a scrape",
                         RULES_EVALUATED_SECONDS)
        self.assertEqual(sorted(r["name"] for r in rules),
                         sorted(where.split(": ", 1)[1]
                                for path in RULE_FILES for where, _ in rule_expressions(path)))
        unhealthy = [f"{r['name']}: {r['health']} {r.get('lastError', '')}" for r in rules
                     if r["health"] != "ok"]
        self.assertEqual(unhealthy, [])
        active = [f"{r['name']}: {alert['state']} {alert['labels']}" for r in rules
                  for alert in r.get("alerts", [])]
        self.assertEqual(active, [], "alerts active for a healthy, idle server")


if __name__ == "__main__":
    unittest.main(verbosity=2)
