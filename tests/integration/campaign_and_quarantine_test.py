#!/usr/bin/python3
"""Campaigns, batch semantics and the quarantine from the clients: the Python client and the
perfcast CLI send a configuration's campaign and batch semantics (predict and submit), and an
admin lists, releases and drops quarantined results with either. One server with tokens, seeded
with the default data's Meta-Llama-3-8B rows, whose campaigns are the CSV's sources. Needs
PERFCAST_SERVER_BINARY and PERFCAST_CLI_BINARY (CTest sets them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

from perfcast_client import (  # noqa: E402
    BenchmarkResult,
    Client,
    Configuration,
    PerfcastError,
    PredictionCase,
    Query,
)
from perfcast_test_server import PerfcastTestServer, require_env  # noqa: E402

READ_TOKEN = "read-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
TOKENS_CSV = f"""token,name,role
{READ_TOKEN},dashboard,read
{WRITE_TOKEN},pipeline,write
{ADMIN_TOKEN},operator,admin
"""

# A curve of the default data: measured at 1024/1024, batch 1, 16, 32 and 64, in this campaign.
CAMPAIGN = "argonne-llm-inference-bench"
H100 = Configuration("NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16",
                     campaign=CAMPAIGN)
MEASURED_AT_16 = 1486.12  # output tokens/s at batch 16


def result(source_id: str, factor: float, campaign: str | None = CAMPAIGN) -> BenchmarkResult:
    configuration = Configuration(H100.hardware, H100.gpu_count, H100.framework, H100.model,
                                  H100.precision, campaign=campaign)
    return BenchmarkResult(source_id, configuration, 1024, 1024, 16, factor * MEASURED_AT_16)


class CampaignAndQuarantineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cli = require_env("PERFCAST_CLI_BINARY")
        cls.dir = tempfile.TemporaryDirectory(prefix="perfcast-quarantine-")
        tokens = os.path.join(cls.dir.name, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(TOKENS_CSV)
        cls.server = PerfcastTestServer(extra_flags=[f"--auth-tokens={tokens}"])
        cls.server.start()
        cls.server.wait_until_serving()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.dir.cleanup()

    def client(self, token: str) -> Client:
        return Client(self.server.target, token=token, timeout_seconds=20)

    def run_cli(self, *args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess:
        return subprocess.run([self.cli, *args, "--server", self.server.target, "--token", token],
                              capture_output=True, text=True, timeout=60)

    def drop_all(self):
        with self.client(ADMIN_TOKEN) as admin:
            ids = [q.id for q in admin.list_quarantined()]
            if ids:
                admin.drop_quarantined(ids)

    def setUp(self):
        self.drop_all()

    # --- Python client ---------------------------------------------------------------------

    def test_python_predict_sends_campaign_and_batch_semantics(self):
        query = Query(H100, input_tokens=1024, output_tokens=1024, batch_sizes=(16,))
        with self.client(READ_TOKEN) as client:
            [static] = client.predict([query], campaign=CAMPAIGN, batch_semantics="static")
            [concurrency] = client.predict([query], batch_semantics="concurrency")
            with self.assertRaises(PerfcastError) as too_long:
                client.predict([query], campaign="c" * 129)
            with self.assertRaises(ValueError):
                client.predict([query], batch_semantics="dynamic")
        self.assertEqual(static.points[0].prediction_case, PredictionCase.MEASURED)
        # The concurrency axis of this campaign was never measured: the server saw the axis.
        self.assertNotEqual(concurrency.points[0].prediction_case, PredictionCase.MEASURED)
        self.assertEqual(too_long.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("campaign", too_long.exception.details)

    def test_python_submit_sends_the_campaign_and_a_far_result_is_quarantined(self):
        with self.client(WRITE_TOKEN) as writer:
            stored_before = writer.status().stored_result_count
            summary = writer.submit([result("py-far-1", 100), result("py-near-1", 1.1)])
        self.assertEqual(summary.quarantined_count, 1)
        self.assertEqual(summary.accepted_count, 1)
        with self.client(ADMIN_TOKEN) as admin:
            [held] = admin.list_quarantined()
            self.assertEqual(admin.status().stored_result_count, stored_before + 1)
        self.assertEqual(held.result.source_id, "py-far-1")
        self.assertEqual(held.result.configuration.campaign, CAMPAIGN)
        self.assertEqual(held.result.configuration.batch_semantics, "static")
        self.assertEqual(held.submitted_by, "pipeline")
        self.assertIn("prediction", held.reason)
        self.assertIsNotNone(held.submit_time)

    def test_python_a_new_campaign_at_3x_is_accepted(self):
        with self.client(WRITE_TOKEN) as writer:
            summary = writer.submit([result("py-new-campaign-1", 3, campaign="my-harness")])
        self.assertEqual(summary.quarantined_count, 0)
        self.assertEqual(summary.accepted_count, 1)

    def test_python_release_and_drop(self):
        with self.client(WRITE_TOKEN) as writer:
            writer.submit([result("py-far-2", 100), result("py-far-3", 0.01)])
        with self.client(ADMIN_TOKEN) as admin:
            first, second = admin.list_quarantined()
            since = admin.status().results_since_refit_count
            released = admin.release_quarantined([first.id, 999999])
            self.assertEqual(released.changed_count, 1)
            self.assertEqual(released.not_found_ids, (999999,))
            self.assertEqual(admin.status().results_since_refit_count, since + 1)
            dropped = admin.drop_quarantined([second.id])
            self.assertEqual(dropped.changed_count, 1)
            self.assertEqual(admin.list_quarantined(), [])

    def test_python_only_an_admin_may_list(self):
        for token in (READ_TOKEN, WRITE_TOKEN):
            with self.client(token) as client:
                with self.assertRaises(PerfcastError) as caught:
                    client.list_quarantined()
                self.assertEqual(caught.exception.code, grpc.StatusCode.PERMISSION_DENIED)

    # --- CLI -------------------------------------------------------------------------------

    def cli_predict(self, *extra: str) -> subprocess.CompletedProcess:
        return self.run_cli("predict", "--hardware", H100.hardware, "--num-gpus", "1",
                            "--framework", H100.framework, "--model", H100.model, "--precision",
                            H100.precision, "--input-tokens", "1024", "--output-tokens", "1024",
                            "--batch-size", "16", "--json", *extra, token=READ_TOKEN)

    def test_cli_predict_sends_campaign_and_batch_semantics(self):
        static = self.cli_predict("--campaign", CAMPAIGN, "--batch-semantics", "static")
        concurrency = self.cli_predict("--campaign", CAMPAIGN, "--batch-semantics", "concurrency")
        too_long = self.cli_predict("--campaign", "c" * 129)
        bad = self.cli_predict("--batch-semantics", "dynamic")
        self.assertEqual(static.returncode, 0, static.stderr)
        self.assertEqual(json.loads(static.stdout)["prediction_case"], "measured")
        self.assertEqual(concurrency.returncode, 0, concurrency.stderr)
        self.assertNotEqual(json.loads(concurrency.stdout)["prediction_case"], "measured")
        self.assertEqual(too_long.returncode, 2)
        self.assertIn("campaign", too_long.stderr)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--batch-semantics", bad.stderr)

    def test_cli_submit_sends_the_campaign_and_quarantine_commands_work(self):
        csv_path = os.path.join(self.dir.name, "far.csv")
        with open(csv_path, "w") as f:
            f.write("source,campaign,batch_semantics,hardware,num_gpus,framework,model,precision,"
                    "input_tokens,output_tokens,batch_size,output_tokens_per_s\n")
            for i, factor in enumerate((100, 1.05)):
                f.write(f"cli-{i},{CAMPAIGN},static,{H100.hardware},1,{H100.framework},"
                        f"{H100.model},{H100.precision},1024,1024,16,{factor * MEASURED_AT_16}\n")
        submitted = self.run_cli("submit", "--data", csv_path, "--json", token=WRITE_TOKEN)
        self.assertEqual(submitted.returncode, 0, submitted.stderr)
        self.assertEqual(int(json.loads(submitted.stdout)["quarantined_count"]), 1)

        listed = self.run_cli("quarantine", "list", "--json")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        [held] = json.loads(listed.stdout)["results"]
        self.assertEqual(held["result"]["configuration"]["campaign"], CAMPAIGN)
        self.assertEqual(held["submitted_by"], "pipeline")
        table = self.run_cli("quarantine", "list")
        self.assertIn("pipeline", table.stdout)
        self.assertIn(f"@{CAMPAIGN}", table.stdout)

        denied = self.run_cli("quarantine", "list", token=WRITE_TOKEN)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("admin", denied.stderr)
        self.assertEqual(self.run_cli("quarantine", "release").returncode, 2)
        self.assertEqual(self.run_cli("quarantine", "forget", str(held["id"])).returncode, 2)

        released = self.run_cli("quarantine", "release", str(held["id"]))
        self.assertEqual(released.returncode, 0, released.stderr)
        self.assertIn("released 1", released.stdout)
        dropped = self.run_cli("quarantine", "drop", str(held["id"]))
        self.assertEqual(dropped.returncode, 0, dropped.stderr)
        self.assertIn("dropped 0", dropped.stdout)
        self.assertIn(f"not in quarantine: {held['id']}", dropped.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
