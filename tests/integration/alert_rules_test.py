#!/usr/bin/python3
"""The alerting rules of deploy/prometheus/: promtool accepts them (`promtool check rules`), their
unit tests pass (`promtool test rules`), every alert has a unit test where it fires and one
where it stays quiet, and the Kubernetes PrometheusRule carries the same rules.
Needs PERFCAST_PROMTOOL (CTest sets it; Debian's `prometheus` package ships promtool)."""

from __future__ import annotations

import os
import subprocess
import unittest

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULES = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
RULE_TESTS = os.path.join(ROOT, "deploy", "prometheus", "alerts_test.yml")
PROMETHEUS_RULE = os.path.join(ROOT, "deploy", "kubernetes", "prometheusrule.yaml")


def promtool() -> str:
    path = os.environ.get("PERFCAST_PROMTOOL") or "/usr/bin/promtool"
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} not found: apt-get install prometheus (it ships promtool)")
    return path


def load(path: str):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def alert_names(groups) -> list[str]:
    return [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]


class AlertRulesTest(unittest.TestCase):
    def run_promtool(self, *arguments: str) -> None:
        result = subprocess.run([promtool(), *arguments], capture_output=True, text=True,
                                timeout=60, check=False)
        self.assertEqual(result.returncode, 0,
                         f"promtool {' '.join(arguments)}:\n{result.stdout}{result.stderr}")

    def test_promtool_accepts_the_rules(self):
        self.run_promtool("check", "rules", RULES)

    def test_the_rules_pass_their_unit_tests(self):
        self.run_promtool("test", "rules", RULE_TESTS)

    def test_every_alert_is_tested_firing_and_quiet(self):
        firing, quiet = set(), set()
        for case in load(RULE_TESTS)["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
        alerts = alert_names(load(RULES)["groups"])
        self.assertTrue(alerts)
        self.assertEqual(len(alerts), len(set(alerts)), "an alert name is used twice")
        self.assertEqual(sorted(set(alerts) - firing), [], "alerts no test expects to fire")
        self.assertEqual(sorted(set(alerts) - quiet), [], "alerts no test expects to stay quiet")
        self.assertEqual(sorted((firing | quiet) - set(alerts)), [], "tests of no alert")

    def test_every_alert_has_a_severity_and_a_summary(self):
        for group in load(RULES)["groups"]:
            for rule in group["rules"]:
                with self.subTest(alert=rule.get("alert")):
                    self.assertIn(rule["labels"]["severity"], ("critical", "warning"))
                    self.assertTrue(rule["annotations"]["summary"])
                    self.assertTrue(rule["annotations"]["description"])

    def test_the_prometheus_rule_for_kubernetes_carries_the_same_rules(self):
        resource = load(PROMETHEUS_RULE)
        self.assertEqual((resource["apiVersion"], resource["kind"]),
                         ("monitoring.coreos.com/v1", "PrometheusRule"))
        self.assertEqual(resource["spec"]["groups"], load(RULES)["groups"],
                         "deploy/kubernetes/prometheusrule.yaml differs from alerts.yml")

    def test_the_compose_prometheus_loads_the_rules(self):
        config = load(os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml"))
        self.assertIn("alerts.yml", config.get("rule_files", []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
