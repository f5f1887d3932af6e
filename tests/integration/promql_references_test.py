#!/usr/bin/python3
"""Unit tests of promql_references.py, the checker that holds the dashboard's queries and the
alerting rules to a real scrape: what it reads from PromQL, and that each kind of broken
reference (a misspelt metric, a histogram by its bare name, a label or label value the metric
lacks, a grouping label no metric has) is reported. Reads a fixed exposition; needs no server."""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from promql_references import (Exposition, Matcher, Selector, expression_problems,  # noqa: E402
                               references, variable_query_problems)

# The shape of perfcast-server's /metrics, cut down to a few series of each kind.
SCRAPE = """\
# HELP grpc_server_handled_total RPCs completed on the server, by status code.
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="OK",grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary"} 3
grpc_server_handled_total{grpc_code="Internal",grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary"} 0
grpc_server_handled_total{grpc_code="OK",grpc_method="SubmitBenchmarks",grpc_service="perfcast.v1.ModelService",grpc_type="client_stream"} 0
# TYPE grpc_server_handling_seconds histogram
grpc_server_handling_seconds_count{grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary"} 3
grpc_server_handling_seconds_sum{grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary"} 0.002
grpc_server_handling_seconds_bucket{grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary",le="0.001"} 3
grpc_server_handling_seconds_bucket{grpc_method="Predict",grpc_service="perfcast.v1.PredictionService",grpc_type="unary",le="+Inf"} 3
# TYPE perfcast_refits_total counter
perfcast_refits_total{outcome="failure",trigger="count"} 0
perfcast_refits_total{outcome="success",trigger="seed"} 1
# TYPE perfcast_model_version gauge
perfcast_model_version 1
# TYPE perfcast_interval_hits_total counter
perfcast_interval_hits_total{confidence_level="0.9"} 0
"""


class ReferencesTest(unittest.TestCase):
    def test_reads_selectors_and_skips_functions_keywords_and_durations(self):
        found = references('histogram_quantile(0.99, sum by (le, grpc_method) '
                           '(rate(grpc_server_handling_seconds_bucket{grpc_type="unary"}[5m] '
                           'offset 1h))) > bool 0.5 and on (instance) perfcast_model_version')
        self.assertEqual(found.selectors, [
            Selector("grpc_server_handling_seconds_bucket", (Matcher("grpc_type", "=", "unary"),)),
            Selector("perfcast_model_version")])
        self.assertEqual(found.grouping_labels, ["le", "grpc_method", "instance"])

    def test_reads_trailing_grouping_clauses_and_name_matchers(self):
        found = references('sum(rate({__name__="perfcast_refits_total", outcome!="success"}[1h]))'
                           ' without (trigger)')
        self.assertEqual(found.selectors, [
            Selector("perfcast_refits_total", (Matcher("outcome", "!=", "success"),))])
        self.assertEqual(found.grouping_labels, ["trigger"])

    def test_reads_grafana_variables_as_durations_and_values(self):
        found = references('rate(perfcast_refits_total{job="$job", instance=~"${instance}"}'
                           '[$__rate_interval])')
        self.assertEqual(found.selectors, [Selector("perfcast_refits_total", (
            Matcher("job", "=", "$job"), Matcher("instance", "=~", "${instance}")))])


class ExpressionProblemsTest(unittest.TestCase):
    def setUp(self):
        self.scrape = Exposition.parse(SCRAPE)

    def problems(self, expr):
        return expression_problems(expr, self.scrape)

    def test_a_query_of_scraped_series_has_no_problem(self):
        for expr in (
                'sum by (grpc_method) (rate(grpc_server_handled_total{job="$job", '
                'grpc_code=~"Internal|DataLoss"}[$__rate_interval]))',
                'histogram_quantile(0.9, sum by (le) (rate('
                'grpc_server_handling_seconds_bucket{grpc_method="Predict"}[5m])))',
                'rate(grpc_server_handling_seconds_sum[5m]) / '
                'rate(grpc_server_handling_seconds_count[5m])',
                'up{job="perfcast", instance="a:9090"} == 0',
                'time() - perfcast_model_version{instance=~"$instance"}',
                'increase(perfcast_refits_total{outcome="failure"}[1h]) > 0'):
            with self.subTest(expr=expr):
                self.assertEqual(self.problems(expr), [])

    def test_a_misspelt_metric_is_reported(self):
        [problem] = self.problems('rate(perfcast_refit_total[5m])')
        self.assertIn("no metric perfcast_refit_total", problem)
        self.assertIn("perfcast_refits_total", problem)  # the near names are listed

    def test_a_histogram_by_its_bare_name_is_reported(self):
        [problem] = self.problems('rate(grpc_server_handling_seconds[5m])')
        self.assertIn("is a histogram", problem)

    def test_a_label_the_metric_lacks_is_reported(self):
        [problem] = self.problems('perfcast_refits_total{result="failure"}')
        self.assertIn("no label 'result'", problem)
        [problem] = self.problems('up{grpc_code="OK"}')
        self.assertIn("no label 'grpc_code'", problem)

    def test_a_label_value_no_series_has_is_reported(self):
        [problem] = self.problems('perfcast_refits_total{outcome="failed"}')
        self.assertIn("matches no series", problem)
        self.assertIn("'failure'", problem)  # the values there are

    def test_a_regex_that_matches_no_value_is_reported(self):
        [problem] = self.problems('grpc_server_handled_total{grpc_code=~"Internall|DataLoss"}')
        self.assertIn("matches no series", problem)
        self.assertEqual(self.problems('grpc_server_handled_total{grpc_code=~"Inter.*"}'), [])

    def test_negative_matchers_and_target_labels_need_no_matching_value(self):
        self.assertEqual(self.problems('grpc_server_handled_total{grpc_code!="Aborted", '
                                       'job="anything", instance=~"x.*"}'), [])

    def test_a_grouping_label_no_metric_has_is_reported(self):
        [problem] = self.problems('sum by (method) (rate(grpc_server_handled_total[5m]))')
        self.assertIn("grouping label 'method'", problem)

    def test_every_broken_reference_of_an_expression_is_reported(self):
        problems = self.problems('perfcast_refits_total{outcome="failed"} / '
                                 'perfcast_model_versions')
        self.assertEqual(len(problems), 2, problems)

    def test_an_unreadable_expression_is_a_problem_not_an_exception(self):
        [problem] = self.problems('perfcast_refits_total{outcome="failure"')
        self.assertIn("perfcast_refits_total", problem)
        [problem] = self.problems('rate(perfcast_refits_total[5m]) ? 1')
        self.assertIn("cannot read", problem)

    def test_an_expression_without_a_metric_is_a_problem(self):
        [problem] = self.problems('vector(1)')
        self.assertIn("no metric", problem)


class VariableQueryProblemsTest(unittest.TestCase):
    def setUp(self):
        self.scrape = Exposition.parse(SCRAPE)

    def test_label_values_of_a_scraped_label_has_no_problem(self):
        self.assertEqual(variable_query_problems(
            'label_values(perfcast_refits_total{job="$job"}, trigger)', self.scrape), [])
        self.assertEqual(variable_query_problems(
            'label_values(perfcast_model_version, instance)', self.scrape), [])

    def test_label_values_of_a_label_the_metric_lacks_is_reported(self):
        [problem] = variable_query_problems('label_values(perfcast_model_version, version)',
                                            self.scrape)
        self.assertIn("no label 'version'", problem)

    def test_label_values_of_a_missing_metric_is_reported(self):
        [problem] = variable_query_problems('label_values(perfcast_build, job)', self.scrape)
        self.assertIn("no metric perfcast_build", problem)


if __name__ == "__main__":
    unittest.main(verbosity=2)
