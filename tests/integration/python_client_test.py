#!/usr/bin/python3
"""perfcast_client (clients/python) against a real perfcast-server, and the scheduler example.

One server for the whole class (training is the slow part): seeded with the default data's
Meta-Llama-3-8B rows, then given three synthetic configurations (with latencies) and refitted
once, in setUpClass. Needs PERFCAST_SERVER_BINARY and, on PYTHONPATH, clients/python and the
generated stubs (CTest sets all of it up).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

from perfcast_client import (  # noqa: E402
    MODEL_SERVICE,
    PREDICTION_SERVICE,
    BenchmarkResult,
    Client,
    CandidateRejection,
    Configuration,
    MemoryFit,
    LatencyStatistic,
    PerfcastError,
    Plan,
    PredictionCase,
    Query,
    RequestShape,
)
from perfcast_test_server import PerfcastTestServer  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO_ROOT, "clients", "python", "examples", "cheapest_configuration.py")

# A curve of the default data (measured at these shapes and batch sizes 1..64), in the campaign
# that measured it (the CSV's source): the server keeps each result's campaign.
H100 = Configuration("NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16",
                     campaign="argonne-llm-inference-bench")

# Three synthetic offers of one made-up accelerator, measured in setUpClass:
# throughput(batch) = peak - (peak - first) * exp(-0.05 * batch), at 128 in / 128 out, with a mean
# TTFT of 20 ms + 2 ms per sequence and the ITL that the batch latency leaves, their 99th
# percentiles 3 and 1.1 times the means. All at one price per
# GPU-hour (Plan prices per hardware): the cheapest per hour is the one with the fewest GPUs that
# reaches a target. They name their campaign: a query without one is answered for the population
# of campaigns, whose interval covers the spread between the default data's campaigns.
SYNTHETIC = {
    # name: (configuration, throughput at batch 1, peak tokens/s)
    "one": (Configuration("PCTEST-GPU", 1, "pcserve", "pctest/model-7b", "fp16",
                          campaign="pctest"), 100, 2000),
    "two": (Configuration("PCTEST-GPU", 2, "pcserve", "pctest/model-7b", "fp16",
                          campaign="pctest"), 200, 6000),
    "four": (Configuration("PCTEST-GPU", 4, "pcserve", "pctest/model-7b", "fp16",
                           campaign="pctest"), 300, 12000),
}
SYNTHETIC_PRICE_PER_GPU_HOUR = 2.0
SYNTHETIC_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
SYNTHETIC_MODEL = "pctest/model-7b"


def synthetic_throughput(first: float, peak: float, batch_size: int) -> float:
    return peak - (peak - first) * math.exp(-0.05 * (batch_size - 1))


def synthetic_result(name: str, batch_size: int) -> BenchmarkResult:
    config, first, peak = SYNTHETIC[name]
    throughput = synthetic_throughput(first, peak, batch_size)
    batch_latency = 128 * batch_size / throughput
    ttft = 0.02 + 0.002 * batch_size
    itl = (batch_latency - ttft) / 127
    return BenchmarkResult(f"pctest-{name}", config, 128, 128, batch_size, throughput,
                           batch_latency_seconds=batch_latency, time_to_first_token_seconds=ttft,
                           inter_token_latency_seconds=itl,
                           p99_time_to_first_token_seconds=3 * ttft,
                           p99_time_per_output_token_seconds=1.1 * itl)


def load_example():
    spec = importlib.util.spec_from_file_location("cheapest_configuration", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


class PythonClientTest(unittest.TestCase):
    server: PerfcastTestServer
    client: Client

    @classmethod
    def setUpClass(cls):
        cls.example = load_example()
        cls.server = PerfcastTestServer()
        cls.server.start()
        try:
            cls.server.wait_until_serving()
            cls.client = Client(cls.server.target, timeout_seconds=10, refit_timeout_seconds=60)
            # The model serves as soon as it is swapped in; the refit that trained it is
            # recorded as finished a moment later.
            cls.seed_status = cls.client.status()
            deadline = time.monotonic() + 10
            while cls.seed_status.last_refit.outcome == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.05)
                cls.seed_status = cls.client.status()
            # A page token of the seed model's version, for the test that a token outlives it
            # not.
            cls.seed_page_token = cls.client.plan(
                H100.model, [RequestShape(128, 128)], output_tokens_per_second=1000,
                ranking="gpus", hardware=["NVIDIA H100"], page_size=1).next_page_token
            cls.synthetic_submit = cls.client.submit(
                synthetic_result(name, n) for name in SYNTHETIC for n in SYNTHETIC_BATCH_SIZES)
            cls.refit = cls.client.refit(wait=True, reason="python_client_test")
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        log_tail = cls.server.log_tail()
        cls.server.cleanup()
        if code != 0:
            raise AssertionError(f"server exited with {code} on SIGTERM\n{log_tail}")

    # --- health and status ------------------------------------------------------------------

    def test_health_reports_every_service_serving(self):
        for service in ("", PREDICTION_SERVICE, MODEL_SERVICE):
            self.assertEqual(self.client.health(service), "SERVING", service)

    def test_health_of_unknown_service_is_not_found(self):
        with self.assertRaises(PerfcastError) as caught:
            self.client.health("no.such.Service")
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_seed_model_serves_the_default_data(self):
        self.assertEqual(self.seed_status.serving_version, 1)
        [version] = self.seed_status.versions
        # Seeded with Meta-Llama-3-8B's rows of the default data (perfcast_test_server.py).
        self.assertGreater(version.training_point_count, 300)
        self.assertGreater(version.configuration_count, 20)
        self.assertEqual(self.seed_status.last_refit.trigger, "seed")
        self.assertEqual(self.seed_status.last_refit.outcome, "SUCCEEDED")

    # --- predict ----------------------------------------------------------------------------

    def test_predict_answers_each_query_in_order(self):
        batch_sizes = (1, 16, 64)
        # Hardware absent from the seed data but in the catalogue: a new configuration.
        unseen = Configuration("NVIDIA B200 SXM 180GB", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                               "fp16")
        measured, new = self.client.predict([Query(H100, 128, 128, batch_sizes),
                                             Query(unseen, 128, 128, (8,))])
        self.assertEqual(tuple(p.batch_size for p in measured.points), batch_sizes)
        self.assertEqual(measured.prediction_case, PredictionCase.MEASURED)
        self.assertAlmostEqual(measured.confidence_level, 0.9)
        self.assertEqual(measured.model_version, self.refit.model_version)
        for p in measured.points:
            self.assertLessEqual(0, p.throughput_lower_tokens_per_second)
            self.assertLessEqual(p.throughput_lower_tokens_per_second,
                                 p.throughput_tokens_per_second)
            self.assertLessEqual(p.throughput_tokens_per_second,
                                 p.throughput_upper_tokens_per_second)
            # batch latency = output_tokens * batch_size / throughput (perfcast.proto).
            self.assertAlmostEqual(p.batch_latency_seconds,
                                   128 * p.batch_size / p.throughput_tokens_per_second, places=6)
            # Mean TTFT and ITL where the model learned latencies (the seed rows have none), and
            # then batch latency = TTFT + (output - 1) x ITL; otherwise None.
            if p.latency_statistic == LatencyStatistic.MEAN:
                self.assertAlmostEqual(p.ttft_seconds + 127 * p.itl_seconds,
                                       p.batch_latency_seconds, places=6)
                self.assertLessEqual(p.ttft_lower_seconds, p.ttft_seconds)
                self.assertLessEqual(p.itl_seconds, p.itl_upper_seconds)
            else:
                self.assertEqual(p.latency_statistic, LatencyStatistic.UNSPECIFIED)
                self.assertIsNone(p.ttft_seconds)
                self.assertIsNone(p.itl_seconds)
            # The 99th percentiles come with their intervals, or not at all (0 on the wire).
            for value, lower, upper in ((p.p99_ttft_seconds, p.p99_ttft_lower_seconds,
                                         p.p99_ttft_upper_seconds),
                                        (p.p99_tpot_seconds, p.p99_tpot_lower_seconds,
                                         p.p99_tpot_upper_seconds)):
                if value is None:
                    self.assertIsNone(lower)
                    self.assertIsNone(upper)
                else:
                    self.assertLessEqual(lower, value)
                    self.assertLessEqual(value, upper)
        self.assertGreater(measured.points[2].throughput_tokens_per_second,
                           measured.points[0].throughput_tokens_per_second)
        self.assertEqual(new.prediction_case, PredictionCase.NEW_CONFIGURATION)

    def test_predict_says_whether_each_point_fits_in_memory(self):
        # Llama-3-8B in fp16 fits on one 80 GB H100; Llama-2-70B in fp16 (128.5 GiB of weights)
        # does not, and is answered with no throughput rather than refused.
        too_big = Configuration("NVIDIA H100", 1, "vllm", "meta-llama/Llama-2-70b-hf", "fp16")
        fits, does_not = self.client.predict([Query(H100, 1024, 1024, (1, 64)),
                                              Query(too_big, 128, 128, (1,))])
        for p in fits.points:
            self.assertEqual(p.memory_fit, MemoryFit.FITS)
            self.assertTrue(p.fits)
            self.assertIn("GiB usable of one NVIDIA H100 SXM 80GB", p.memory_fit_reason)
            self.assertLessEqual(p.memory_required_gib_per_gpu, p.memory_available_gib_per_gpu)
        self.assertGreaterEqual(fits.largest_fitting_batch_size, 64)
        [point] = does_not.points
        self.assertEqual(point.memory_fit, MemoryFit.DOES_NOT_FIT)
        self.assertIs(point.fits, False)
        self.assertEqual(point.throughput_tokens_per_second, 0)
        self.assertIn("weights 128.5 GiB per GPU > 72.0 GiB usable", point.memory_fit_reason)
        self.assertEqual(does_not.largest_fitting_batch_size, 0)

    def test_hardware_neither_data_nor_catalogue_knows_is_not_found_naming_it(self):
        unknown = Configuration("PCTEST-NEVER-SEEN", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                                "fp16")
        with self.assertRaises(PerfcastError) as caught:
            self.client.predict([Query(H100, 128, 128, (1,)), Query(unknown, 128, 128, (8,))])
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertIn("queries[1].configuration", caught.exception.details)
        self.assertIn("PCTEST-NEVER-SEEN", caught.exception.details)

    def test_higher_confidence_widens_the_interval(self):
        narrow, wide = self.client.predict([Query(H100, 128, 128, (32,), 0.5),
                                            Query(H100, 128, 128, (32,), 0.99)])
        self.assertAlmostEqual(wide.confidence_level, 0.99)
        self.assertLess(wide.points[0].throughput_lower_tokens_per_second,
                        narrow.points[0].throughput_lower_tokens_per_second)
        self.assertGreater(wide.points[0].throughput_upper_tokens_per_second,
                           narrow.points[0].throughput_upper_tokens_per_second)

    def test_predict_invalid_argument_names_the_field_and_value(self):
        with self.assertRaises(PerfcastError) as caught:
            self.client.predict([Query(H100, -5, 128, (1,))])
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("input_tokens", caught.exception.details)
        self.assertIn("-5", caught.exception.details)
        self.assertIn("INVALID_ARGUMENT", str(caught.exception))

    def test_predict_of_a_version_not_served_is_not_found(self):
        with self.assertRaises(PerfcastError) as caught:
            self.client.predict([Query(H100, 128, 128, (1,))], model_version=999)
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_deadline_is_enforced(self):
        # The largest request the server accepts (1000 queries x 256 batch sizes) takes far
        # longer than a millisecond to send and answer.
        heavy = [Query(H100, 128, 128 + i, tuple(range(1, 257))) for i in range(1000)]
        with self.assertRaises(PerfcastError) as caught:
            self.client.predict(heavy, timeout_seconds=0.001)
        self.assertEqual(caught.exception.code, grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_wait_until_serving_gives_up_at_its_deadline(self):
        started = time.monotonic()
        with self.assertRaises(PerfcastError) as caught:
            self.client.wait_until_serving("no.such.Service", timeout_seconds=0.5)
        self.assertEqual(caught.exception.code, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertIn("SERVICE_UNKNOWN", caught.exception.details)
        self.assertLess(time.monotonic() - started, 5.0)

    # --- uncertainty ------------------------------------------------------------------------

    def test_uncertainty_is_low_on_a_measured_curve_and_higher_far_from_data(self):
        measured = self.client.uncertainty(Query(H100, 128, 128, (16,)))
        self.assertEqual(measured.similarity_score, 1.0)
        self.assertEqual(measured.prediction_case, PredictionCase.MEASURED)
        self.assertEqual(measured.nearest_curves[0].configuration, H100)
        self.assertEqual(measured.nearest_curves[0].distance, 0.0)
        self.assertEqual(len(measured.nearest_curves), 5)  # the default neighbour count

        far = self.client.uncertainty(
            Query(Configuration("AMD Instinct MI355X", 3, "nothing", "deepseek-ai/DeepSeek-R1",
                                "fp8"), 4000, 7, (8,)), neighbor_count=2)
        self.assertEqual(far.prediction_case, PredictionCase.NEW_CONFIGURATION)
        self.assertLess(far.similarity_score, measured.similarity_score)
        self.assertGreater(far.expected_relative_error, measured.expected_relative_error)
        self.assertEqual(len(far.nearest_curves), 2)
        self.assertGreater(far.nearest_curves[0].distance, 0.0)

    # --- submit -----------------------------------------------------------------------------

    def test_submit_stream_counts_accepted_duplicates_and_names_the_rejected_field(self):
        config = Configuration("PCTEST-SUBMIT-GPU", 1, "pcserve", "pctest/model-7b", "fp16", campaign="pctest")
        results = [BenchmarkResult("submit-stream", config, 256, 64, n, 100.0 * n)
                   for n in (1, 2, 4)]
        nan = BenchmarkResult("submit-stream", config, 256, 64, 8, float("nan"))
        before = self.client.status().stored_result_count

        first = self.client.submit(results[:2] + [nan] + results[2:], chunk_size=2)
        self.assertEqual((first.accepted_count, first.duplicate_count, first.rejected_count),
                         (3, 0, 1))
        [rejection] = first.rejections
        self.assertEqual(rejection.index, 2)
        self.assertEqual(rejection.source_id, "submit-stream")
        self.assertEqual(rejection.field, "throughput_tokens_per_second")
        self.assertIn("nan", rejection.reason.lower())

        again = self.client.submit(results)
        self.assertEqual((again.accepted_count, again.duplicate_count, again.rejected_count),
                         (0, 3, 0))
        self.assertEqual(self.client.status().stored_result_count, before + 3)

    def test_submit_one_reports_duplicates_and_rejects_nan_naming_the_field(self):
        config = Configuration("PCTEST-SUBMIT-GPU", 2, "pcserve", "pctest/model-7b", "fp16", campaign="pctest")
        result = BenchmarkResult("submit-one", config, 128, 128, 4, 321.5,
                                 batch_latency_seconds=1.6)
        self.assertFalse(self.client.submit_one(result))
        self.assertTrue(self.client.submit_one(result))

        with self.assertRaises(PerfcastError) as caught:
            self.client.submit_one(BenchmarkResult("submit-one", config, 128, 128, 8,
                                                   float("nan")))
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("throughput_tokens_per_second", caught.exception.details)

    def test_a_campaign_that_measured_99th_percentiles_gets_them_and_the_population_none(self):
        own, population = self.client.predict([
            Query(SYNTHETIC["two"][0], 128, 128, (8, 64)),
            Query(dataclasses.replace(SYNTHETIC["two"][0], campaign=None), 128, 128, (8, 64))])
        for p in own.points:
            self.assertIsNotNone(p.p99_ttft_seconds)
            self.assertIsNotNone(p.p99_tpot_seconds)
            self.assertGreaterEqual(p.p99_ttft_seconds, p.ttft_seconds)
            self.assertGreaterEqual(p.p99_tpot_seconds, p.itl_seconds)
            # The data's law, 3 times the mean, within what the trees and the mean's error allow.
            self.assertLess(abs(p.p99_ttft_seconds / p.ttft_seconds - 3), 1, p)
            self.assertLess(p.p99_ttft_lower_seconds, p.p99_ttft_seconds)
            self.assertGreater(p.p99_tpot_upper_seconds, p.p99_tpot_seconds)
        # How a harness sends its requests makes its tails: no campaign, no tail.
        for p in population.points:
            self.assertIsNone(p.p99_ttft_seconds)
            self.assertIsNone(p.p99_tpot_seconds)

    def test_submitted_p99s_come_back_from_the_store_and_a_non_positive_one_is_rejected(self):
        # 100x a measured point of the default data: held in quarantine, which lists it back
        # as stored, and kept out of training.
        far = 100 * 1486.12  # H100 at 1024/1024, batch 16
        with_p99 = BenchmarkResult("submit-p99", H100, 1024, 1024, 16, far,
                                   time_to_first_token_seconds=0.2,
                                   p99_time_to_first_token_seconds=0.45,
                                   p99_time_per_output_token_seconds=0.0375)
        without = BenchmarkResult("submit-no-p99", H100, 1024, 1024, 16, far,
                                  time_to_first_token_seconds=0.2)
        summary = self.client.submit([with_p99, without])
        self.assertEqual((summary.rejected_count, summary.quarantined_count), (0, 2),
                         summary.rejections)
        try:
            held = {q.result.source_id: q.result for q in self.client.list_quarantined()}
            self.assertEqual(held["submit-p99"].p99_time_to_first_token_seconds, 0.45)
            self.assertEqual(held["submit-p99"].p99_time_per_output_token_seconds, 0.0375)
            self.assertIsNone(held["submit-no-p99"].p99_time_to_first_token_seconds)
            self.assertIsNone(held["submit-no-p99"].p99_time_per_output_token_seconds)
            self.assertEqual(held["submit-no-p99"].time_to_first_token_seconds, 0.2)
        finally:
            self.client.drop_quarantined(q.id for q in self.client.list_quarantined())

        for field, result in (
                ("p99_time_to_first_token_seconds",
                 BenchmarkResult("submit-p99", H100, 1024, 1024, 8, 1000.0,
                                 p99_time_to_first_token_seconds=0.0)),
                ("p99_time_per_output_token_seconds",
                 BenchmarkResult("submit-p99", H100, 1024, 1024, 8, 1000.0,
                                 p99_time_per_output_token_seconds=float("inf")))):
            with self.assertRaises(PerfcastError) as caught:
                self.client.submit_one(result)
            self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn(field, caught.exception.details)

    # --- refit ------------------------------------------------------------------------------

    def test_refit_with_wait_serves_a_newer_version_trained_on_the_new_results(self):
        self.assertEqual(self.synthetic_submit.accepted_count,
                         len(SYNTHETIC) * len(SYNTHETIC_BATCH_SIZES))
        self.assertGreater(self.refit.model_version, self.seed_status.serving_version)
        self.assertGreater(self.refit.training_duration_seconds, 0)
        status = self.client.status()
        self.assertEqual(status.serving_version, self.refit.model_version)
        self.assertEqual([v.version for v in status.versions],
                         sorted((v.version for v in status.versions), reverse=True))
        newest = status.versions[0]
        self.assertEqual(newest.training_point_count,
                         self.seed_status.versions[0].training_point_count
                         + self.synthetic_submit.accepted_count)
        self.assertEqual(status.last_refit.trigger, "rpc")
        self.assertEqual(status.last_refit.outcome, "SUCCEEDED")
        self.assertEqual(status.last_refit.model_version, self.refit.model_version)
        # The synthetic curves are now measured data.
        [prediction] = self.client.predict([Query(SYNTHETIC["two"][0], 128, 128, (64,))])
        self.assertEqual(prediction.prediction_case, PredictionCase.MEASURED)
        self.assertAlmostEqual(prediction.points[0].throughput_tokens_per_second,
                               synthetic_throughput(200, 6000, 64), delta=0.05 * 6000)

    def test_configurations_lists_the_synthetic_ones(self):
        configurations = self.client.configurations(page_size=7)
        self.assertEqual(len(configurations), len(set(configurations)))
        for config, *_ in SYNTHETIC.values():
            self.assertIn(config, configurations)
        self.assertIn(H100, configurations)

    # --- plan -------------------------------------------------------------------------------

    def synthetic_plan(self, **kwargs) -> Plan:
        """A plan for the three synthetic offers at 128 in / 128 out; kwargs override."""
        request = dict(output_tokens_per_second=3000.0,
                       candidates=[config for config, _, _ in SYNTHETIC.values()],
                       prices={"PCTEST-GPU": SYNTHETIC_PRICE_PER_GPU_HOUR},
                       batch_sizes=SYNTHETIC_BATCH_SIZES)
        request.update(kwargs)
        shapes = request.pop("shapes", [RequestShape(128, 128)])
        return self.client.plan(SYNTHETIC_MODEL, shapes, **request)

    def test_plan_ranks_options_by_cost_each_serving_the_demand_by_its_lower_bound(self):
        plan = self.synthetic_plan()
        self.assertEqual(plan.model_version, self.refit.model_version)
        self.assertEqual(plan.demand_output_tokens_per_second, 3000.0)
        self.assertAlmostEqual(plan.confidence, 0.9)  # the server's default
        self.assertEqual((plan.total_options, len(plan.options), plan.rejected), (3, 3, ()))
        self.assertEqual(plan.next_page_token, "")
        costs = [o.planned.cost_per_hour for o in plan.options]
        self.assertEqual(costs, sorted(costs))
        for o in plan.options:
            p = o.planned
            self.assertIn(p.batch_size, SYNTHETIC_BATCH_SIZES)
            # The fewest replicas that serve the demand at the capacity's lower bound.
            self.assertGreaterEqual(p.replicas * p.tokens_per_second_per_replica, 3000.0)
            self.assertLess((p.replicas - 1) * p.tokens_per_second_per_replica, 3000.0)
            self.assertLessEqual(p.tokens_per_second_per_replica,
                                 o.predicted_tokens_per_second_per_replica)
            self.assertEqual(o.usd_per_gpu_hour, SYNTHETIC_PRICE_PER_GPU_HOUR)
            self.assertEqual(o.total_gpus, p.replicas * o.configuration.gpu_count)
            self.assertAlmostEqual(p.cost_per_hour, o.total_gpus * SYNTHETIC_PRICE_PER_GPU_HOUR)
            self.assertAlmostEqual(o.cost_per_million_output_tokens,
                                   p.cost_per_hour / (3000.0 * 3600) * 1e6)
            self.assertEqual(o.prediction_case, PredictionCase.MEASURED)
            # Planning on the predictions alone never needs more replicas.
            self.assertLessEqual(o.point_estimate.replicas, p.replicas)
            # The capacity at 90% is the lower end of Predict's 90% interval.
            [predicted] = self.client.predict(
                [Query(o.configuration, 128, 128, (p.batch_size,), 0.9)])
            self.assertTrue(math.isclose(predicted.points[0].throughput_lower_tokens_per_second,
                                         p.tokens_per_second_per_replica, rel_tol=1e-9))
        self.assertLessEqual(plan.cheapest_point_estimate.planned.cost_per_hour, costs[0])

    def test_plan_rejects_a_candidate_that_misses_the_ttft_objective_with_the_figures(self):
        plan = self.synthetic_plan(ttft_seconds=0.01)
        self.assertEqual(plan.options, ())
        self.assertEqual([r.configuration for r in plan.rejected],
                         [config for config, _, _ in SYNTHETIC.values()])
        for r in plan.rejected:
            self.assertEqual(r.reason, CandidateRejection.MISSES_TTFT)
            # "TTFT at 90% confidence 0.03 s > objective 0.01 s at batch 1, 128/128 tokens"
            self.assertRegex(r.detail, r"^TTFT at 90% confidence [0-9.e-]+ s > objective 0\.01 s "
                                       r"at batch 1, 128/128 tokens$")
            self.assertGreater(float(r.detail.split()[4]), 0.01)

        # A looser objective holds the batch down: the TTFT's upper bound stays under it.
        loose = self.synthetic_plan(ttft_seconds=0.1)
        self.assertEqual(len(loose.options), 3)
        for o in loose.options:
            self.assertLessEqual(o.planned.ttft_seconds, 0.1)
            self.assertLess(o.planned.batch_size, 128)

    def test_plan_rejects_hardware_without_a_price_when_ranking_by_cost(self):
        two = SYNTHETIC["two"][0]
        plan = self.synthetic_plan(candidates=[H100, two])
        self.assertEqual([o.configuration for o in plan.options], [two])
        [rejected] = plan.rejected
        self.assertEqual(rejected.configuration, H100)
        self.assertEqual(rejected.reason, CandidateRejection.NO_PRICE)
        self.assertIn("'NVIDIA H100'", rejected.detail)
        # No price for any candidate: nothing to rank by.
        with self.assertRaises(PerfcastError) as caught:
            self.synthetic_plan(prices={})
        self.assertEqual(caught.exception.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("prices", caught.exception.details)

    def test_plan_ranks_by_gpus_without_prices(self):
        plan = self.synthetic_plan(prices={}, ranking="gpus")
        self.assertEqual(len(plan.options), 3)
        gpus = [o.total_gpus for o in plan.options]
        self.assertEqual(gpus, sorted(gpus))
        for o in plan.options:
            self.assertIsNone(o.usd_per_gpu_hour)
            self.assertEqual(o.planned.cost_per_hour, 0)
            self.assertEqual(o.cost_per_million_output_tokens, 0)

    def test_plan_invalid_argument_names_the_field_and_value(self):
        cases = [
            ("output_tokens_per_second", "0", dict(output_tokens_per_second=0.0)),
            ("confidence", "1.5", dict(confidence=1.5)),
            ("slo.ttft_seconds", "0", dict(ttft_seconds=0.0)),
            ("shapes[0].weight", "-1", dict(shapes=[RequestShape(128, 128, -1.0)])),
        ]
        for field, value, kwargs in cases:
            with self.subTest(field=field), self.assertRaises(PerfcastError) as caught:
                self.synthetic_plan(**kwargs)
            self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertTrue(caught.exception.details.startswith(field), caught.exception.details)
            self.assertIn(value, caught.exception.details)
        # What the client can tell without asking.
        with self.assertRaises(ValueError):
            self.synthetic_plan(requests_per_second=1.0)  # two demands
        with self.assertRaises(ValueError):
            self.synthetic_plan(ranking="dollars")

    def test_plan_pages_continue_and_a_token_holds_for_its_model_version_only(self):
        whole = self.synthetic_plan()
        first = self.synthetic_plan(page_size=1)
        self.assertEqual(first.options, whole.options[:1])
        self.assertEqual(first.total_options, 3)
        self.assertNotEqual(first.next_page_token, "")
        second = self.synthetic_plan(page_size=1, page_token=first.next_page_token)
        self.assertEqual(second.options, whole.options[1:2])
        self.assertEqual(second.rejected, ())  # rejections come on the first page
        third = self.synthetic_plan(page_size=2, page_token=second.next_page_token)
        self.assertEqual(third.options, whole.options[2:])
        self.assertEqual(third.next_page_token, "")

        # The seed model's token, from before the refit: its version no longer serves.
        self.assertNotEqual(self.seed_page_token, "")
        with self.assertRaises(PerfcastError) as caught:
            self.synthetic_plan(page_size=1, page_token=self.seed_page_token)
        self.assertEqual(caught.exception.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("page_token", caught.exception.details)
        with self.assertRaises(PerfcastError) as caught:
            self.synthetic_plan(page_size=1, page_token="garbage")
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        # A token is only good for the request that gave it.
        with self.assertRaises(PerfcastError) as caught:
            self.synthetic_plan(page_size=1, page_token=first.next_page_token,
                                output_tokens_per_second=3001.0)
        self.assertEqual(caught.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("another request", caught.exception.details)
        self.assertIn("page_token", caught.exception.details)

    # --- the scheduler example --------------------------------------------------------------

    def candidates(self):
        return [self.example.Candidate(config, SYNTHETIC_PRICE_PER_GPU_HOUR)
                for config, _, _ in SYNTHETIC.values()]

    def choose(self, target: float, confidence: float, max_replicas: int = 1):
        plan = self.example.plan_offers(
            self.client, self.candidates(), input_tokens=128, output_tokens=128,
            target_tokens_per_second=target, confidence=confidence,
            batch_sizes=self.example.default_batch_sizes(128))
        return self.example.decide(self.candidates(), plan, max_replicas)

    def assert_choice_is_cheapest_reaching(self, decision, target, confidence):
        """One replica of the chosen offer reaches the target at the lower bound, at
        its smallest such batch size, and every offer cheaper per hour falls short."""
        choice = decision.choice
        p = choice.option.planned
        self.assertEqual(p.replicas, 1)
        self.assertGreaterEqual(p.tokens_per_second_per_replica, target)
        # The bound at confidence c is the lower end of Predict's interval at level c.
        batch_sizes = self.example.default_batch_sizes(128)
        [prediction] = self.client.predict([Query(choice.candidate.configuration, 128, 128,
                                                  batch_sizes, confidence)])
        for point in prediction.points:
            if point.batch_size == p.batch_size:
                self.assertTrue(math.isclose(point.throughput_lower_tokens_per_second,
                                             p.tokens_per_second_per_replica, rel_tol=1e-9))
            elif point.batch_size < p.batch_size:
                self.assertLess(point.throughput_lower_tokens_per_second, target)
        for v in decision.verdicts:
            if v.candidate.cost_per_hour < choice.candidate.cost_per_hour:
                self.assertFalse(v.qualifies, v)

    def test_example_chooses_the_cheapest_per_hour_that_reaches_the_target(self):
        # "one" ($2/h) peaks at 2,000 tokens/s; "two" ($4/h) and "four" ($8/h) reach 3,000.
        decision = self.choose(3000, 0.9)
        self.assertEqual(decision.choice.candidate.configuration, SYNTHETIC["two"][0])
        self.assertEqual(decision.choice.option.planned.cost_per_hour, 4.0)
        self.assert_choice_is_cheapest_reaching(decision, 3000, 0.9)
        one, two, four = decision.verdicts
        self.assertEqual(one.reason, "EXCEEDS_MAX_REPLICAS")
        self.assertGreater(one.option.planned.replicas, 1)
        self.assertTrue(four.qualifies)

        # Only "four" reaches 9,000 with one replica.
        decision = self.choose(9000, 0.9)
        self.assertEqual(decision.choice.candidate.configuration, SYNTHETIC["four"][0])
        self.assert_choice_is_cheapest_reaching(decision, 9000, 0.9)

        # Beyond every single offer: with replicas allowed, several of one.
        self.assertIsNone(self.choose(15000, 0.9).choice)
        decision = self.choose(15000, 0.9, max_replicas=0)
        self.assertGreater(decision.choice.option.planned.replicas, 1)
        self.assertEqual(decision.choice.option, decision.plan.options[0])

    def test_example_judges_by_the_lower_bound_of_the_requested_confidence(self):
        # Just under "two"'s measured peak: its lower bound reaches it at 50 % confidence (the
        # lower end of the 50% interval, just under the prediction) but not at 99 %.
        target = 0.9 * 6000
        decision = self.choose(target, 0.5)
        self.assertEqual(decision.choice.candidate.configuration, SYNTHETIC["two"][0])
        self.assertLess(decision.choice.option.planned.tokens_per_second_per_replica,
                        decision.choice.option.predicted_tokens_per_second_per_replica)
        self.assert_choice_is_cheapest_reaching(decision, target, 0.5)
        decision = self.choose(target, 0.99)
        self.assertEqual(decision.choice.candidate.configuration, SYNTHETIC["four"][0])
        self.assert_choice_is_cheapest_reaching(decision, target, 0.99)

    def test_example_command_line_prints_the_choice_and_exits_2_when_none_reaches(self):
        with tempfile.TemporaryDirectory() as tmp:
            offers = os.path.join(tmp, "offers.csv")

            def write_offers(prices):
                with open(offers, "w", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(["hardware", "gpu_count", "framework", "model", "precision",
                                     "cost_per_gpu_hour"])
                    for (config, _, _), price in zip(SYNTHETIC.values(), prices, strict=True):
                        writer.writerow([config.hardware, config.gpu_count, config.framework,
                                         config.model, config.precision, price])

            def run(target, *extra):
                return subprocess.run(
                    [sys.executable, EXAMPLE, "--server", self.server.target, "--candidates",
                     offers, "--target", str(target), "--max-batch-size", "128", "--json",
                     *extra], capture_output=True, text=True, timeout=30)

            write_offers([SYNTHETIC_PRICE_PER_GPU_HOUR] * 3)
            found = run(3000)
            self.assertEqual(found.returncode, 0, found.stderr)
            output = json.loads(found.stdout)
            self.assertEqual(output["model_version"], self.refit.model_version)
            # The cheapest offer whose bound reaches the target on one replica is chosen: how
            # many GPUs that takes rests on the interval's width (the campaigns' spread, since the
            # offers name no campaign), which this test does not pin.
            choice = output["choice"]
            gpus = choice["configuration"]["gpu_count"]
            self.assertEqual(choice["replicas"], 1)
            self.assertEqual(choice["cost_per_hour"], SYNTHETIC_PRICE_PER_GPU_HOUR * gpus)
            self.assertGreaterEqual(choice["lower_tokens_per_second"], 3000)
            self.assertLessEqual(choice["lower_tokens_per_second"],
                                 choice["predicted_tokens_per_second"])
            verdicts = [c["verdict"] for c in output["candidates"]]
            self.assertEqual(verdicts.count("chosen"), 1, verdicts)
            for candidate in output["candidates"]:
                offered = candidate["configuration"]["gpu_count"]
                if offered < gpus:
                    self.assertEqual(candidate["verdict"], "rejected")
                    self.assertEqual(candidate["reason"], "EXCEEDS_MAX_REPLICAS")
                    self.assertGreater(candidate["planned"]["replicas"], 1)
                elif offered == gpus:
                    self.assertEqual(candidate["verdict"], "chosen")
                else:
                    self.assertEqual(candidate["verdict"], "qualifies")
            # One GPU never reaches it on one replica: its peak is under the target.
            self.assertEqual(output["candidates"][0]["reason"], "EXCEEDS_MAX_REPLICAS")

            none = run(50000)
            self.assertEqual(none.returncode, 2, none.stderr)
            self.assertIsNone(json.loads(none.stdout)["choice"])

            several = run(50000, "--max-replicas", "0")
            self.assertEqual(several.returncode, 0, several.stderr)
            choice = json.loads(several.stdout)["choice"]
            self.assertGreater(choice["replicas"], 1)
            self.assertGreaterEqual(choice["lower_tokens_per_second"], 50000)

            # Plan prices per hardware: one hardware at two prices is an error, said plainly.
            write_offers([3.0, 2.0, 1.5])
            conflict = run(3000)
            self.assertEqual(conflict.returncode, 1)
            self.assertIn("'PCTEST-GPU' is offered at $3 and $2 per GPU-hour", conflict.stderr)
            self.assertEqual(conflict.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
