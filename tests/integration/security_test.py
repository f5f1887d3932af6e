#!/usr/bin/python3
"""TLS, mutual TLS, bearer tokens and per-caller limits of a live perfcast-server, from Python
(python3-grpcio), Node (@grpc/grpc-js, tls_check.js) and the perfcast CLI. Certificates are
made for the test with openssl (test_certificates.py).

One server carries TLS, tokens, tight limits and --keep-versions=1; a second requires client
certificates. Needs PERFCAST_SERVER_BINARY, PERFCAST_CLI_BINARY and NODE_PATH (CTest sets them).
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

from perfcast_client import BenchmarkResult, Client, Configuration, PerfcastError  # noqa: E402
from perfcast_test_server import PerfcastTestServer, require_env  # noqa: E402
from test_certificates import TestCertificates  # noqa: E402

READ_TOKEN = "read-token-0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
UNKNOWN_TOKEN = "unknown-token-0123456789abcdef"
TOKENS_CSV = f"""token,name,role
# comment lines and blank lines are skipped

{READ_TOKEN},dashboard,read
{WRITE_TOKEN},bench-pipeline,write
{ADMIN_TOKEN},operator,admin
"""
CONFIG = Configuration("SECURITY-TEST-GPU", 1, "vllm", "perfcast/security-test", "fp16")


def result(batch_size: int, source: str = "security-test") -> BenchmarkResult:
    return BenchmarkResult(source, CONFIG, 128, 128, batch_size, 100.0 * batch_size)


class TlsAndTokensTest(unittest.TestCase):
    """TLS with tokens; refits limited to 1 per minute, results to 5 per second (burst 50)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="perfcast-security-")
        cls.certs = TestCertificates(cls.dir.name)
        tokens = os.path.join(cls.dir.name, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(TOKENS_CSV)
        cls.server = PerfcastTestServer(
            extra_flags=[f"--tls-cert={cls.certs.server_cert}",
                         f"--tls-key={cls.certs.server_key}", f"--auth-tokens={tokens}",
                         "--max-refits-per-minute=1", "--max-results-per-second=5",
                         "--keep-versions=1"],
            client_options={"tls_ca_file": cls.certs.ca})
        cls.server.start()
        cls.server.wait_until_serving()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.dir.cleanup()

    def client(self, token=None) -> Client:
        return Client(self.server.target, tls_ca_file=self.certs.ca, token=token,
                      timeout_seconds=10, refit_timeout_seconds=120)

    def assertRefused(self, code, call, token=None):
        with self.assertRaises(PerfcastError) as caught:
            call()
        self.assertEqual(caught.exception.code, code, caught.exception.details)
        for secret in (READ_TOKEN, WRITE_TOKEN, ADMIN_TOKEN, UNKNOWN_TOKEN):
            self.assertNotIn(secret, caught.exception.details)
        return caught.exception.details

    def test_read_token_over_tls_reads(self):
        with self.client(READ_TOKEN) as client:
            self.assertGreater(client.status().stored_result_count, 0)
            self.assertEqual(client.health(), "SERVING")

    def test_plaintext_client_fails_against_the_tls_port(self):
        with Client(self.server.target, token=READ_TOKEN, timeout_seconds=5) as client:
            self.assertRefused(grpc.StatusCode.UNAVAILABLE, client.status)

    def test_missing_token_is_unauthenticated(self):
        with self.client() as client:
            details = self.assertRefused(grpc.StatusCode.UNAUTHENTICATED, client.status)
            self.assertIn("authorization", details)

    def test_unknown_token_is_unauthenticated_without_echoing_it(self):
        with self.client(UNKNOWN_TOKEN) as client:
            self.assertRefused(grpc.StatusCode.UNAUTHENTICATED, client.status)

    def test_read_token_may_not_submit(self):
        with self.client(READ_TOKEN) as client:
            details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED,
                                         lambda: client.submit_one(result(1)))
            self.assertIn("dashboard", details)
            self.assertRefused(grpc.StatusCode.PERMISSION_DENIED,
                               lambda: client.submit([result(2)]))

    def test_write_token_submits_but_may_not_refit(self):
        with self.client(WRITE_TOKEN) as client:
            client.submit_one(result(3, "write-token"))
            details = self.assertRefused(grpc.StatusCode.PERMISSION_DENIED,
                                         lambda: client.refit(wait=False))
            self.assertIn("admin", details)

    def test_admin_refits_once_then_is_rate_limited_and_old_versions_go(self):
        with self.client(ADMIN_TOKEN) as client:
            before = client.status().serving_version
            refit = client.refit(wait=True, reason="security_test")
            self.assertGreater(refit.model_version, before)
            details = self.assertRefused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                         lambda: client.refit(wait=False))
            self.assertIn("retry in", details)
        # --keep-versions=1: only the serving version is left on disk.
        self.assertEqual(os.listdir(self.server.model_dir), [str(refit.model_version)])

    def test_results_over_the_rate_end_the_stream_with_a_retry_time(self):
        results = [result(b, "rate-limit") for b in range(1, 201)]
        with self.client(WRITE_TOKEN) as client:
            details = self.assertRefused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                         lambda: client.submit(results, chunk_size=20))
        self.assertIn("retry in", details)
        self.assertIn("bench-pipeline", details)

    def test_node_grpc_js_over_tls(self):
        node_check = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node",
                                  "tls_check.js")
        run = subprocess.run(["node", node_check, self.server.target, self.certs.ca, READ_TOKEN],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

    def test_cli_with_tls_ca_and_token(self):
        cli = require_env("PERFCAST_CLI_BINARY")
        base = [cli, "status", "--server", self.server.target, "--tls-ca", self.certs.ca]
        ok = subprocess.run(base + ["--token", READ_TOKEN], capture_output=True, text=True,
                            timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        env = dict(os.environ, PERFCAST_TOKEN=READ_TOKEN)
        from_env = subprocess.run(base, capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(from_env.returncode, 0, from_env.stderr)
        env.pop("PERFCAST_TOKEN")
        refused = subprocess.run(base, capture_output=True, text=True, timeout=60, env=env)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("authorization metadata: missing", refused.stderr)

    def test_cli_bench_with_tls_ca_and_token(self):
        cli = require_env("PERFCAST_CLI_BINARY")
        base = [cli, "bench", "--server", self.server.target, "--tls-ca", self.certs.ca,
                "--duration", "0.3", "--warmup", "0", "--concurrency", "2", "--json"]
        ok = subprocess.run(base + ["--token", READ_TOKEN], capture_output=True, text=True,
                            timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn('"errors":0', ok.stdout)
        self.assertNotIn('"requests":0,', ok.stdout)
        env = {k: v for k, v in os.environ.items() if k != "PERFCAST_TOKEN"}
        refused = subprocess.run(base, capture_output=True, text=True, timeout=60, env=env)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("authorization metadata: missing", refused.stderr)


class MutualTlsTest(unittest.TestCase):
    """--tls-client-ca: a client must present a certificate the CA signed; its CN may stand for a
    name of the token file."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="perfcast-mtls-")
        cls.certs = TestCertificates(cls.dir.name)
        tokens = os.path.join(cls.dir.name, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(TOKENS_CSV)
        cls.operator_cert, cls.operator_key = cls.certs.client("operator")
        cls.stranger_cert, cls.stranger_key = cls.certs.client("stranger")
        cls.server = PerfcastTestServer(
            extra_flags=[f"--tls-cert={cls.certs.server_cert}",
                         f"--tls-key={cls.certs.server_key}",
                         f"--tls-client-ca={cls.certs.ca}", f"--auth-tokens={tokens}"],
            client_options={"tls_ca_file": cls.certs.ca, "tls_cert_file": cls.operator_cert,
                            "tls_key_file": cls.operator_key})
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.dir.cleanup()

    def test_client_certificate_named_in_the_token_file_needs_no_token(self):
        with Client(self.server.target, tls_ca_file=self.certs.ca,
                    tls_cert_file=self.operator_cert, tls_key_file=self.operator_key) as client:
            self.assertGreaterEqual(client.status().stored_result_count, 0)

    def test_client_certificate_of_an_unknown_name_still_needs_a_token(self):
        with Client(self.server.target, tls_ca_file=self.certs.ca,
                    tls_cert_file=self.stranger_cert, tls_key_file=self.stranger_key) as client:
            with self.assertRaises(PerfcastError) as caught:
                client.status()
            self.assertEqual(caught.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        with Client(self.server.target, tls_ca_file=self.certs.ca, token=READ_TOKEN,
                    tls_cert_file=self.stranger_cert, tls_key_file=self.stranger_key) as client:
            self.assertGreaterEqual(client.status().stored_result_count, 0)

    def test_client_without_a_certificate_fails_the_handshake(self):
        with Client(self.server.target, tls_ca_file=self.certs.ca, token=ADMIN_TOKEN,
                    timeout_seconds=5) as client:
            with self.assertRaises(PerfcastError) as caught:
                client.status()
            self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
