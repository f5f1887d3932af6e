#!/usr/bin/python3
"""A real Prometheus (Debian's `prometheus` package) scrapes perfcast-server's /metrics.

Starts the server and Prometheus on loopback (Prometheus with a generated config scraping the
server's metrics port every second), then checks that
- the exposition is not empty, carries perfcast's metrics and passes `promtool check metrics`;
- Prometheus' HTTP API answers a query for a perfcast metric with a sample, within a bounded
  wait, and has seen the Predict call made before it started.
Needs PERFCAST_SERVER_BINARY, PERFCAST_PROMETHEUS, PERFCAST_PROMTOOL (CTest sets them).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_client import Client, Configuration, Query  # noqa: E402
from perfcast_test_server import PerfcastTestServer, wait_for  # noqa: E402

JOB = "perfcast"
SCRAPE_INTERVAL = "1s"
PROMETHEUS_READY_SECONDS = 30.0
SAMPLE_SECONDS = 20.0  # a few scrape intervals, with room for a loaded CI machine
HTTP_TIMEOUT_SECONDS = 5.0

# Series the server must export (docs/SERVING.md §7), by the name in the exposition.
REQUIRED_METRICS = (
    "perfcast_build_info",
    "perfcast_model_version",
    "perfcast_predict_queries_total",
    "perfcast_benchmark_results_total",
    "perfcast_refit_duration_seconds_bucket",
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds_bucket",
)
PREDICT_HANDLED_OK = ('grpc_server_handled_total{grpc_service="perfcast.v1.PredictionService",'
                      'grpc_method="Predict",grpc_code="OK"}')


def tool(env_name: str, default: str) -> str:
    path = os.environ.get(env_name) or default
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"{path} not found: apt-get install prometheus (it provides prometheus and promtool)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> tuple[int, str, str]:
    """(status, content type, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return (response.status, response.headers.get("Content-Type", ""),
                    response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, "", ""


class Prometheus:
    """Debian's prometheus on 127.0.0.1, scraping one target; state in a temp dir."""

    def __init__(self, binary: str, scrape_target: str):
        self.binary = binary
        self.dir = tempfile.TemporaryDirectory(prefix="perfcast-prometheus-")
        self.config = os.path.join(self.dir.name, "prometheus.yml")
        # JSON is YAML: no formatting to get wrong.
        with open(self.config, "w") as f:
            json.dump({
                "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL},
                "scrape_configs": [{
                    "job_name": JOB,
                    "metrics_path": "/metrics",
                    "static_configs": [{"targets": [scrape_target]}],
                }],
            }, f, indent=2)
        self.log_path = os.path.join(self.dir.name, "prometheus.log")
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        # The port is picked free and then handed over, so another process may take it first:
        # try a few.
        for _ in range(3):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [self.binary, f"--config.file={self.config}",
                     f"--storage.tsdb.path={os.path.join(self.dir.name, 'data')}",
                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=info"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for(lambda: True if http_get(f"{self.url}/-/ready")[0] == 200 else None,
                         "Prometheus /-/ready", PROMETHEUS_READY_SECONDS, self._exited)
                return
            except RuntimeError:
                if "address already in use" not in self.log():
                    raise RuntimeError(f"prometheus exited\n{self.log_tail()}") from None
        raise RuntimeError(f"prometheus could not bind a port\n{self.log_tail()}")

    def query(self, promql: str) -> list[dict]:
        status, _, body = http_get(
            f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        if status != 200:
            raise AssertionError(f"query {promql!r}: HTTP {status}: {body[:500]}")
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise AssertionError(f"query {promql!r}: {body[:500]}")
        return answer["data"]["result"]

    def wait_for_sample(self, promql: str, accept=lambda value: True) -> list[dict]:
        """Polls the query API until the query returns a sample whose value passes accept()."""
        def probe():
            result = self.query(promql)
            return result if result and accept(float(result[0]["value"][1])) else None

        try:
            return wait_for(probe, f"a sample of {promql}", SAMPLE_SECONDS, self._exited)
        except (TimeoutError, RuntimeError) as e:
            raise AssertionError(f"{e}\nscrape targets: {self.targets()}\n{self.log_tail()}")

    def targets(self) -> str:
        status, _, body = http_get(f"{self.url}/api/v1/targets")
        if status != 200:
            return f"HTTP {status}"
        active = json.loads(body)["data"]["activeTargets"]
        return "; ".join(f"{t['scrapeUrl']} health={t['health']} lastError={t['lastError']!r}"
                         for t in active)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.dir.cleanup()

    def log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return "--- prometheus log (tail) ---\n" + "\n".join(self.log().splitlines()[-lines:])

    def _exited(self) -> str | None:
        code = self.process.poll() if self.process else None
        return None if code is None else f"prometheus exited with status {code}"


class PrometheusScrapeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        prometheus_binary = tool("PERFCAST_PROMETHEUS", "/usr/bin/prometheus")
        cls.promtool = tool("PERFCAST_PROMTOOL", "/usr/bin/promtool")
        cls.server = PerfcastTestServer()
        cls.server.start()
        cls.prometheus = None
        try:
            cls.server.wait_until_serving()
            with Client(cls.server.target) as client:
                config = Configuration("NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B",
                                       "fp16")
                client.predict([Query(config, 128, 128, (1, 8))])
            cls.prometheus = Prometheus(prometheus_binary, f"127.0.0.1:{cls.server.metrics_port}")
            cls.prometheus.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.prometheus is not None:
            cls.prometheus.stop()
            cls.prometheus = None
        cls.server.cleanup()

    def test_exposition_carries_perfcast_metrics_and_passes_promtool(self):
        status, content_type, body = http_get(self.server.metrics_url)
        self.assertEqual(status, 200, body[:500])
        self.assertTrue(content_type.startswith("text/plain"), content_type)
        self.assertTrue(body.strip(), f"{self.server.metrics_url} returned an empty exposition")
        missing = [name for name in REQUIRED_METRICS
                   if not re.search(rf"^{re.escape(name)}[{{ ]", body, re.MULTILINE)]
        self.assertEqual(missing, [], f"series missing from the exposition:\n{body[:3000]}")
        self.assertRegex(body, r"(?m)^# TYPE perfcast_model_version gauge$")

        check = subprocess.run([self.promtool, "check", "metrics"], input=body,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0,
                         f"promtool check metrics:\n{check.stdout}{check.stderr}")

    def test_prometheus_scrapes_the_serving_model_version(self):
        [sample] = self.prometheus.wait_for_sample(f'perfcast_model_version{{job="{JOB}"}}',
                                                   accept=lambda v: v >= 1)
        self.assertEqual(sample["metric"]["instance"], f"127.0.0.1:{self.server.metrics_port}")
        self.assertEqual(float(sample["value"][1]), 1.0)  # the seed model
        [up] = self.prometheus.wait_for_sample(f'up{{job="{JOB}"}}')
        self.assertEqual(up["value"][1], "1")

    def test_prometheus_sees_the_predict_call(self):
        [sample] = self.prometheus.wait_for_sample(PREDICT_HANDLED_OK, accept=lambda v: v >= 1)
        self.assertEqual(float(sample["value"][1]), 1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
