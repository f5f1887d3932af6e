#!/usr/bin/python3
"""Three perfcast-server replicas on one PostgreSQL (--store=postgresql://...).

Checks what a replicated deployment promises: results submitted to one replica are served by
all of them as a new model version within a bounded time; killing the training replica (kill -9)
in the middle of a refit lets another take the training lock and finish it; no acknowledged
result is lost; Predict keeps answering on the surviving replicas throughout; a Refit asked of a
replica that does not train is run by the one that does. Prints the measured
propagation and takeover times and the Predict throughput of three replicas (`perfcast bench`).

Needs the throwaway PostgreSQL of the CTest fixture `postgres` (its admin URL is in the file
PERFCAST_TEST_POSTGRES_URL_FILE names), PERFCAST_SERVER_BINARY, PERFCAST_CLI_BINARY, and on
PYTHONPATH the Python client and its stubs (CTest sets all of it up).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_client import BenchmarkResult, Client, Configuration, Query  # noqa: E402
from perfcast_test_server import PerfcastTestServer, require_env, wait_for  # noqa: E402

# A count trigger small enough for one submission to fire it; no quiet trigger, so that each
# refit in the test has a known cause.
RETRAIN_AFTER_RESULTS = 16
POLL_SECONDS = 1.0
LEADER_RETRY_SECONDS = 0.5
# Bounds the test holds the replicas to (CI: two cores shared by three servers and the tests).
PROPAGATION_BOUND_SECONDS = 60.0
TAKEOVER_BOUND_SECONDS = 90.0
BENCH_SECONDS = 2

H100 = Configuration("NVIDIA H100", 1, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16")
PROBE = Query(H100, 1024, 256, (1, 8, 32))


def psql_binary() -> str:
    return shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"


def psql(url: str, sql: str) -> str:
    out = subprocess.run([psql_binary(), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", url,
                          "-c", sql], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"psql {sql!r}: {out.stderr.strip()}")
    return out.stdout.strip()


def synthetic_results(gpu_count: int, source_id: str) -> list[BenchmarkResult]:
    """RETRAIN_AFTER_RESULTS points of a made-up configuration: 2 shapes x 8 batch sizes."""
    configuration = Configuration("PCREPL-GPU", gpu_count, "pcserve", "pctest/model-7b", "fp16")
    results = []
    for input_tokens, output_tokens in ((128, 128), (512, 256)):
        for batch_size in (1, 2, 4, 8, 16, 32, 64, 128):
            peak = 3000.0 * gpu_count * 256 / (128 + input_tokens)
            results.append(BenchmarkResult(
                source_id=source_id, configuration=configuration, input_tokens=input_tokens,
                output_tokens=output_tokens, batch_size=batch_size,
                throughput_tokens_per_second=peak * (1 - 0.9 * 2.718281828 ** (-0.08 * batch_size))))
    assert len(results) == RETRAIN_AFTER_RESULTS
    return results


def loaded_at(server: PerfcastTestServer, version: int) -> datetime.datetime:
    """When the server's log says it swapped `version` in (UTC, millisecond resolution)."""
    match = re.search(rf"^(\S+)Z info event=model_loaded version={version} ", server.log_text(),
                      re.MULTILINE)
    if match is None:
        raise AssertionError(f"no model_loaded version={version}\n{server.log_tail()}")
    return datetime.datetime.fromisoformat(match.group(1))


def training_leader(server: PerfcastTestServer) -> int:
    """The server's perfcast_training_leader gauge."""
    with urllib.request.urlopen(server.metrics_url, timeout=10) as response:
        text = response.read().decode()
    match = re.search(r"^perfcast_training_leader (\S+)$", text, re.MULTILINE)
    if match is None:
        raise AssertionError(f"no perfcast_training_leader in {server.metrics_url}")
    return int(float(match.group(1)))


def serving_version(server: PerfcastTestServer) -> int | None:
    try:
        with Client(server.target) as client:
            return client.predict([PROBE], timeout_seconds=5)[0].model_version
    except Exception:  # noqa: BLE001 - not serving (yet): the caller polls
        return None


class PredictLoad:
    """Calls Predict on each server in a loop on its own thread; counts answers and errors."""

    def __init__(self, servers: list[PerfcastTestServer]):
        self._stop = threading.Event()
        self.answers = {s.target: 0 for s in servers}
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._run, args=(s.target,)) for s in servers]

    def __enter__(self) -> PredictLoad:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _run(self, target: str) -> None:
        with Client(target) as client:
            while not self._stop.is_set():
                try:
                    client.predict([PROBE], timeout_seconds=5)
                    self.answers[target] += 1
                except Exception as e:  # noqa: BLE001 - recorded, asserted on by the test
                    self.errors.append(f"{target}: {e}")
                time.sleep(0.01)


class ReplicasTest(unittest.TestCase):
    def setUp(self):
        with open(require_env("PERFCAST_TEST_POSTGRES_URL_FILE")) as f:
            admin_url = f.read().strip()
        self.database = f"perfcast_replicas_{os.getpid()}"
        psql(admin_url, f"CREATE DATABASE {self.database}")
        self.addCleanup(psql, admin_url, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self.url = f"{admin_url.rsplit('/', 1)[0]}/{self.database}"
        self.servers: list[PerfcastTestServer] = []

    def tearDown(self):
        for server in self.servers:
            server.cleanup()

    def start_replica(self) -> PerfcastTestServer:
        server = PerfcastTestServer(extra_flags=[
            f"--store={self.url}",
            f"--retrain_after_results={RETRAIN_AFTER_RESULTS}",
            "--retrain_quiet_seconds=0",
            f"--store_poll_seconds={POLL_SECONDS}",
            f"--leader_retry_seconds={LEADER_RETRY_SECONDS}",
        ])
        self.servers.append(server)
        server.start()
        return server

    def wait_for_version(self, servers: list[PerfcastTestServer], version: int,
                         timeout_seconds: float) -> list[float]:
        """Until every server answers Predict from `version` or newer; returns when each first
        did (time.monotonic())."""
        reached: dict[int, float] = {}

        def all_there():
            for i, server in enumerate(servers):
                if i not in reached and (serving_version(server) or 0) >= version:
                    reached[i] = time.monotonic()
            return True if len(reached) == len(servers) else None

        try:
            wait_for(all_there, f"model version {version} on every replica", timeout_seconds)
        except TimeoutError as e:
            raise AssertionError(f"{e}\n" + "\n".join(s.log_tail(15) for s in servers)) from None
        return [reached[i] for i in range(len(servers))]

    def test_replicas_share_results_models_and_training(self):
        # --- Start: the first replica takes the training lock and trains on the seed data. ---
        a = self.start_replica()
        a.wait_until_serving()
        self.assertIn("event=training_leadership_acquired", a.log_text())
        b = self.start_replica()
        c = self.start_replica()
        b.wait_until_serving()
        c.wait_until_serving()
        self.assertEqual([serving_version(s) for s in (a, b, c)], [1, 1, 1])
        for follower in (b, c):
            self.assertNotIn("event=refit_started", follower.log_text())
        self.assertEqual([training_leader(s) for s in (a, b, c)], [1, 0, 0])
        seed_count = int(psql(self.url, "SELECT count(*) FROM perfcast_benchmark_results"))

        # --- Results submitted to a follower reach the leader's trigger; all serve v2. ---
        with Client(b.target) as client:
            summary = client.submit(synthetic_results(1, "replicas-1"), timeout_seconds=30)
        submitted = time.monotonic()
        self.assertEqual(summary.accepted_count, RETRAIN_AFTER_RESULTS)
        reached = self.wait_for_version([a, b, c], 2, PROPAGATION_BOUND_SECONDS)
        print(f"propagation: submission acknowledged by replica B -> version 2 served by A (the "
              f"trainer) after {reached[0] - submitted:.2f} s, by all of A, B and C after "
              f"{max(reached) - submitted:.2f} s", flush=True)
        published = loaded_at(a, 2)
        lags_ms = [(loaded_at(s, 2) - published).total_seconds() * 1e3 for s in (b, c)]
        print(f"propagation: version 2 swapped in by B and C {lags_ms[0]:.0f} ms and "
              f"{lags_ms[1]:.0f} ms after the trainer swapped it in (server logs)", flush=True)

        # --- Kill the leader in the middle of its refit: another replica finishes it. ---
        with PredictLoad([b, c]) as load:
            refits_before = a.log_text().count("event=refit_started")
            successes_before = a.log_text().count("event=refit_succeeded")
            with Client(c.target) as client:
                summary = client.submit(synthetic_results(2, "replicas-2"), timeout_seconds=30)
            self.assertEqual(summary.accepted_count, RETRAIN_AFTER_RESULTS)
            wait_for(lambda: True if a.log_text().count("event=refit_started") > refits_before
                     else None, "the leader's refit to start", PROPAGATION_BOUND_SECONDS)
            a.process.kill()
            killed = time.monotonic()
            killed_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            a.process.wait()
            self.assertEqual(a.log_text().count("event=refit_succeeded"), successes_before,
                             "the leader finished before it was killed: nothing was taken over")
            takeover_s = max(self.wait_for_version([b, c], 3, TAKEOVER_BOUND_SECONDS)) - killed
        new_leaders = [s for s in (b, c) if "event=training_leadership_acquired" in s.log_text()]
        self.assertEqual(len(new_leaders), 1, "exactly one replica took over")
        self.assertIn("event=refit_succeeded", new_leaders[0].log_text())
        match = re.search(r"^(\S+)Z info event=training_leadership_acquired",
                          new_leaders[0].log_text(), re.MULTILINE)
        acquired_s = (datetime.datetime.fromisoformat(match.group(1)) - killed_utc).total_seconds()
        print(f"takeover: kill -9 of the training replica mid-refit -> training lock taken by "
              f"another after {acquired_s:.2f} s, version 3 served by B and C after "
              f"{takeover_s:.2f} s", flush=True)
        self.assertEqual(load.errors, [], "Predict failed on a surviving replica")
        self.assertTrue(all(n > 0 for n in load.answers.values()), load.answers)

        # --- No acknowledged result is lost; the newest model was trained on all of them. ---
        stored = int(psql(self.url, "SELECT count(*) FROM perfcast_benchmark_results"))
        self.assertEqual(stored, seed_count + 2 * RETRAIN_AFTER_RESULTS)
        self.assertEqual(int(psql(self.url, "SELECT result_count FROM perfcast_store_state")),
                         stored)
        trained = int(psql(self.url, "SELECT trained_result_count FROM perfcast_models "
                                     "ORDER BY version DESC LIMIT 1"))
        self.assertEqual(trained, stored)

        # --- A replacement replica joins on the newest version; Predict load on all three. ---
        a2 = self.start_replica()
        a2.wait_until_serving()
        self.assertEqual(serving_version(a2), 3)
        self.assertNotIn("event=refit_started", a2.log_text())

        # --- Refit asked of a replica that does not train: the trainer runs it. ---
        started = time.monotonic()
        with Client(a2.target) as client:
            refit = client.refit(wait=True, timeout_seconds=PROPAGATION_BOUND_SECONDS)
        self.assertEqual(refit.model_version, 4)
        self.assertNotIn("event=refit_started", a2.log_text())
        self.assertIn("trigger=forwarded", new_leaders[0].log_text())
        print(f"refit: Refit(wait) on a replica that does not train -> version 4 served there "
              f"after {time.monotonic() - started:.2f} s", flush=True)
        [alone] = self.bench([a2])
        results = self.bench([a2, b, c])
        print(f"throughput: Predict with three replicas (one `perfcast bench --concurrency 8` "
              f"each, at once, same machine): {sum(r['qps'] for r in results):.0f} RPC/s in "
              f"total ({', '.join(format(r['qps'], '.0f') for r in results)}), p99 "
              f"{max(r['p99_ms'] for r in results):.2f} ms; one replica alone: "
              f"{alone['qps']:.0f} RPC/s, p99 {alone['p99_ms']:.2f} ms", flush=True)

    def bench(self, servers: list[PerfcastTestServer]) -> list[dict]:
        """`perfcast bench --json` against each server at once; their results."""
        cli = require_env("PERFCAST_CLI_BINARY")
        benches = [subprocess.Popen([cli, "bench", "--server", s.target, "--concurrency", "8",
                                     "--duration", str(BENCH_SECONDS), "--warmup", "0.5",
                                     "--json"], stdout=subprocess.PIPE, text=True)
                   for s in servers]
        results = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1])
                   for p in benches]
        for p, r in zip(benches, results):
            self.assertEqual(p.returncode, 0)
            self.assertEqual(r["errors"], 0)
        return results


if __name__ == "__main__":
    unittest.main(verbosity=2)
