#!/usr/bin/python3
"""`pip install ./clients/python` into a fresh virtual environment, then the installed package and
the scheduler example against a real perfcast-server, from a directory outside the repository.

Offline, as CI is: pip runs with --no-index, the package's build backend requires nothing, and
grpcio and protobuf are Debian's (python3-grpcio, python3-protobuf), seen through
--system-site-packages. Needs python3-venv. The test itself talks to the server through the
in-repo client on PYTHONPATH (as CTest sets it), so every answer the installed package gives is
compared with the in-repo one: the example's JSON with what the in-repo plan() answers.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_client import Client, RequestShape  # noqa: E402
from perfcast_test_server import PerfcastTestServer  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
PACKAGE_DIR = os.path.join(REPO_ROOT, "clients", "python")
EXAMPLE = os.path.join(PACKAGE_DIR, "examples", "cheapest_configuration.py")
INPUT_TOKENS = 128
OUTPUT_TOKENS = 128
MAX_BATCH_SIZE = 256
CONFIDENCE = 0.9
PIP_TIMEOUT_SECONDS = 120

# Prints where each module the installed package needs was imported from.
IMPORT_PROBE = """
import importlib.metadata, json, sys
import perfcast_client
from perfcast.v1 import perfcast_pb2, perfcast_pb2_grpc
from perfcast_grpc_health.v1 import health_pb2, health_pb2_grpc
json.dump({
    "files": [m.__file__ for m in (perfcast_client, perfcast_pb2, perfcast_pb2_grpc, health_pb2,
                                   health_pb2_grpc)],
    "public_api": sorted(perfcast_client.__all__),
    "version": importlib.metadata.version("perfcast-client"),
    "sys_path": sys.path,
}, sys.stdout)
"""


def load_example():
    spec = importlib.util.spec_from_file_location("cheapest_configuration", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def outside_python_environment() -> dict[str, str]:
    """This process's environment without what would make Python or pip look in the repository
    or in a local configuration: the installed package must stand on its own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def run(args: list[str], *, cwd: str, env: dict[str, str],
        timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PythonPackageTest(unittest.TestCase):
    server: PerfcastTestServer
    client: Client

    @classmethod
    def setUpClass(cls):
        cls.example = load_example()
        cls.scratch = tempfile.TemporaryDirectory(prefix="perfcast-pkg-")
        cls.venv = os.path.join(cls.scratch.name, "venv")
        cls.venv_python = os.path.join(cls.venv, "bin", "python")
        # Outside the repository: nothing of the clone is importable from here.
        cls.workdir = os.path.join(cls.scratch.name, "work")
        os.mkdir(cls.workdir)
        cls.env = outside_python_environment()
        # The server trains its seed model while the environment is built.
        cls.server = PerfcastTestServer()
        cls.server.start()
        try:
            venv = run([sys.executable, "-m", "venv", "--system-site-packages", cls.venv],
                       cwd=cls.workdir, env=cls.env)
            if venv.returncode != 0:
                raise RuntimeError("python3 -m venv failed (apt-get install python3-venv):\n"
                                   + venv.stdout + venv.stderr)
            # The README's command, from the root of the clone.
            cls.install = run([cls.venv_python, "-m", "pip", "install", "--no-index",
                               "--no-cache-dir", "./clients/python"],
                              cwd=REPO_ROOT, env=cls.env, timeout=PIP_TIMEOUT_SECONDS)
            cls.server.wait_until_serving()
            cls.client = Client(cls.server.target, timeout_seconds=10)
        except BaseException:
            cls.server.cleanup()
            cls.scratch.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.cleanup()
        cls.scratch.cleanup()

    def setUp(self):
        self.assertEqual(self.install.returncode, 0,
                         f"pip install failed:\n{self.install.stdout}{self.install.stderr}")

    def run_installed_example(self, *args: str) -> subprocess.CompletedProcess:
        """The example as a user who installed the package runs it: a copy outside the clone,
        with the environment's interpreter."""
        copy = os.path.join(self.workdir, os.path.basename(EXAMPLE))
        with open(EXAMPLE, "rb") as source, open(copy, "wb") as destination:
            destination.write(source.read())
        return run([self.venv_python, copy, "--server", self.server.target, *args],
                   cwd=self.workdir, env=self.env)

    # --- the installed package ----------------------------------------------------------------

    def test_installed_package_imports_from_the_environment_alone(self):
        probe = run([self.venv_python, "-c", IMPORT_PROBE], cwd=self.workdir, env=self.env)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        found = json.loads(probe.stdout)
        site_packages = os.path.join(os.path.realpath(self.venv), "lib")
        for path in found["files"]:
            self.assertTrue(os.path.realpath(path).startswith(site_packages + os.sep), path)
        for entry in found["sys_path"]:
            resolved = os.path.realpath(os.path.join(self.workdir, entry))
            self.assertFalse(resolved.startswith(REPO_ROOT + os.sep), entry)
        import perfcast_client

        self.assertEqual(found["public_api"], sorted(perfcast_client.__all__))
        self.assertEqual(found["version"], "0.1.0")
        installed_package = os.path.dirname(found["files"][0])
        self.assertTrue(os.path.isfile(os.path.join(installed_package, "py.typed")))

    def in_repo_plan(self, target: float):
        """What the in-repo client's plan() answers for the example's built-in offers."""
        offers = self.example.DEFAULT_CANDIDATES
        return self.client.plan(
            offers[0].configuration.model, [RequestShape(INPUT_TOKENS, OUTPUT_TOKENS)],
            output_tokens_per_second=target, confidence=CONFIDENCE,
            candidates=[o.configuration for o in offers],
            prices={o.configuration.hardware: o.cost_per_gpu_hour for o in offers},
            batch_sizes=self.example.default_batch_sizes(MAX_BATCH_SIZE), page_size=1000)

    def test_installed_example_chooses_what_the_in_repo_client_plans(self):
        offers = self.example.DEFAULT_CANDIDATES
        # A demand far beyond any replica makes each offer's plan take its best operating point:
        # a target between the cheapest offer's capacity and the best one's is missed by the
        # cheapest offer and reached by a dearer one, so the choice is not the first offer.
        capacity = {o.configuration: o.planned.tokens_per_second_per_replica
                    for o in self.in_repo_plan(1e7).options}
        cheapest = min(offers, key=lambda o: o.cost_per_hour)
        best = max(capacity.values())
        self.assertGreater(best, capacity[cheapest.configuration])
        target = (capacity[cheapest.configuration] + best) / 2

        result = self.run_installed_example(
            "--target", repr(target), "--confidence", str(CONFIDENCE), "--input-tokens",
            str(INPUT_TOKENS), "--output-tokens", str(OUTPUT_TOKENS), "--max-batch-size",
            str(MAX_BATCH_SIZE), "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        answer = json.loads(result.stdout)
        plan = self.in_repo_plan(target)

        self.assertEqual(answer["model_version"], plan.model_version)
        self.assertEqual(answer["confidence"], plan.confidence)
        self.assertEqual(answer["max_replicas"], 1)
        options = {o.configuration: o for o in plan.options}
        rejected = {r.configuration: r for r in plan.rejected}
        self.assertEqual(len(options) + len(rejected), len(offers))
        # The example's choice: the best-ranked option that one replica serves.
        expected_choice = next(o for o in plan.options if o.planned.replicas == 1)
        self.assertNotEqual(expected_choice.configuration, cheapest.configuration)
        self.assertEqual(len(answer["candidates"]), len(offers))
        for got, offer in zip(answer["candidates"], offers, strict=True):
            config = offer.configuration
            self.assertEqual(got["configuration"], vars(config))
            self.assertEqual(got["cost_per_gpu_hour"], offer.cost_per_gpu_hour)
            if config in rejected:
                self.assertEqual((got["verdict"], got["reason"], got["detail"], got["planned"]),
                                 ("rejected", rejected[config].reason.name,
                                  rejected[config].detail, None))
                continue
            option = options[config]
            if config == expected_choice.configuration:
                self.assertEqual(got["verdict"], "chosen")
            elif option.planned.replicas == 1:
                self.assertEqual(got["verdict"], "qualifies")
            else:
                self.assertEqual((got["verdict"], got["reason"]),
                                 ("rejected", "EXCEEDS_MAX_REPLICAS"))
            self.assert_point_matches(got["planned"], option)

        choice = answer["choice"]
        self.assertEqual(choice["configuration"], vars(expected_choice.configuration))
        self.assert_point_matches(choice, expected_choice)
        self.assertGreaterEqual(choice["lower_tokens_per_second"], target)
        self.assertGreater(choice["cost_per_hour"], cheapest.cost_per_hour)

    def assert_point_matches(self, got: dict, option) -> None:
        p = option.planned
        self.assertEqual((got["batch_size"], got["replicas"], got["prediction_case"]),
                         (p.batch_size, p.replicas, option.prediction_case.name))
        for key, want in (("cost_per_hour", p.cost_per_hour),
                          ("lower_tokens_per_second_per_replica", p.tokens_per_second_per_replica),
                          ("predicted_tokens_per_second_per_replica",
                           option.predicted_tokens_per_second_per_replica)):
            self.assertTrue(math.isclose(got[key], want, rel_tol=1e-12), (key, got[key], want))

    def test_installed_example_says_when_no_offer_reaches_the_target(self):
        result = self.run_installed_example("--target", "1e12")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("choice: none reaches the target", result.stdout)
        for offer in self.example.DEFAULT_CANDIDATES:
            c = offer.configuration
            self.assertIn(f"{c.gpu_count}x {c.hardware} {c.framework} {c.model}", result.stdout)

    # --- the sdist: builds outside the clone, into the same wheel contents --------------------

    def test_sdist_builds_a_wheel_with_the_same_stubs_outside_the_clone(self):
        backend = os.path.join(PACKAGE_DIR, "build_backend")
        out = os.path.join(self.scratch.name, "dist")
        build = run([self.venv_python, "-c",
                     f"import sys; sys.path.insert(0, {backend!r}); import perfcast_build_backend "
                     f"as b; print(b.build_sdist({out!r}))"], cwd=self.workdir, env=self.env)
        self.assertEqual(build.returncode, 0, build.stderr)
        sdist = os.path.join(out, build.stdout.strip())
        # pip unpacks the sdist into a directory of its own, away from proto/ of the clone.
        wheel = run([self.venv_python, "-m", "pip", "wheel", "--no-index", "--no-deps",
                     "--no-cache-dir", "--wheel-dir", out, sdist],
                    cwd=self.workdir, env=self.env, timeout=PIP_TIMEOUT_SECONDS)
        self.assertEqual(wheel.returncode, 0, wheel.stdout + wheel.stderr)
        [wheel_name] = [n for n in os.listdir(out) if n.endswith(".whl")]
        self.assertEqual(wheel_name, "perfcast_client-0.1.0-py3-none-any.whl")

        with zipfile.ZipFile(os.path.join(out, wheel_name)) as archive:
            names = set(archive.namelist())
            record_name = "perfcast_client-0.1.0.dist-info/RECORD"
            record = list(csv.reader(archive.read(record_name).decode().splitlines()))
            self.assertEqual({row[0] for row in record}, names)
            for name, digest, size in record:
                if name != record_name:
                    data = archive.read(name)
                    self.assertEqual((digest, int(size)), (record_hash(data), len(data)), name)
            stubs = ("perfcast/v1/perfcast_pb2.py", "perfcast/v1/perfcast_pb2_grpc.py",
                     "perfcast_grpc_health/v1/health_pb2.py",
                     "perfcast_grpc_health/v1/health_pb2_grpc.py")
            self.assertLessEqual({"perfcast_client/py.typed", *stubs}, names)
            probe = run([self.venv_python, "-c", "from perfcast.v1 import perfcast_pb2 as m; "
                         "print(m.__file__)"], cwd=self.workdir, env=self.env)
            self.assertEqual(probe.returncode, 0, probe.stderr)
            # site-packages/perfcast/v1/perfcast_pb2.py
            installed_root = os.path.dirname(os.path.dirname(os.path.dirname(probe.stdout.strip())))
            for stub in stubs:
                with open(os.path.join(installed_root, stub), "rb") as f:
                    self.assertEqual(archive.read(stub), f.read(), stub)


if __name__ == "__main__":
    unittest.main()
