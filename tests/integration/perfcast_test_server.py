"""Runs a built perfcast-server for integration tests: loopback, free ports, a temp data dir.

    with PerfcastTestServer() as server:        # returns once the gRPC port is known
        server.wait_until_serving()             # a model is loaded (seed training done)
        ... server.target, server.metrics_port ...
    # exit: SIGTERM; server.exit_code holds the exit status

Settings come from the environment CTest sets (tests/integration/CMakeLists.txt):
PERFCAST_SERVER_BINARY (required), PERFCAST_SEED_DATA (the default data CSV; unset: the server's
own default). The server is seeded with the rows of SEED_MODELS only: training on them takes a
quarter of the time the whole file takes, and the tests query nothing else.
Every wait polls with a deadline; on failure the exception carries the tail of the server log.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

# Deadlines. Seed training takes seconds on an idle machine; CI runs two tests at once on two
# cores, so the bound is generous. Nothing waits longer than it has to.
START_TIMEOUT_SECONDS = 20.0
SERVING_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
_POLL_SECONDS = 0.05

# The models of the default data the server is seeded with (all its hardware and frameworks).
SEED_MODELS = ("meta-llama/Meta-Llama-3-8B",)

_METRICS_PORT_RE = re.compile(rb"event=server_listening .*\bmetrics_port=(\d+)")


def require_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set (run through ctest, or export it)")
    return value


def wait_for(probe: Callable[[], T | None], what: str, timeout_seconds: float,
             alive: Callable[[], str | None] = lambda: None) -> T:
    """Calls probe() until it returns non-None; raises TimeoutError after timeout_seconds, or
    RuntimeError as soon as alive() returns a reason to give up."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = probe()
        if value is not None:
            return value
        dead = alive()
        if dead is not None:
            raise RuntimeError(f"while waiting for {what}: {dead}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout_seconds:.0f} s")
        time.sleep(_POLL_SECONDS)


class PerfcastTestServer:
    def __init__(self, binary: str | None = None, *, seed_data: str | None = None,
                 seed_models: Sequence[str] | None = SEED_MODELS,
                 extra_flags: Sequence[str] = (), client_options: dict | None = None):
        """seed_data: a CSV in the default data's schema; seed_models: keep only these models'
        rows of it (None: all). client_options: keyword arguments of the Client that
        wait_until_serving uses (TLS files against a server started with --tls-cert)."""
        self.binary = binary or require_env("PERFCAST_SERVER_BINARY")
        self.seed_data = seed_data if seed_data is not None else os.environ.get(
            "PERFCAST_SEED_DATA")
        self.seed_models = seed_models
        self.extra_flags = list(extra_flags)
        self.client_options = dict(client_options or {})
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.metrics_port = 0
        self.exit_code: int | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def model_dir(self) -> str:
        assert self._dir is not None
        return os.path.join(self._dir.name, "data", "models")

    @property
    def log_path(self) -> str:
        assert self._dir is not None
        return os.path.join(self._dir.name, "server.log")

    def start(self) -> None:
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"server binary {self.binary} missing or not executable")
        self._dir = tempfile.TemporaryDirectory(prefix="perfcast-it-")
        port_file = os.path.join(self._dir.name, "port")
        args = [
            self.binary,
            "--host=127.0.0.1",
            "--port=0",
            "--metrics_port=0",
            f"--data_dir={os.path.join(self._dir.name, 'data')}",
            f"--port_file={port_file}",
            # Only the test triggers refits, so model versions are predictable.
            "--retrain_after_results=0",
            "--retrain_quiet_seconds=0",
            "--train_threads=1",
            "--drain_seconds=2",
        ]
        if self.seed_data:
            seed = self.seed_data
            if self.seed_models is not None:
                seed = os.path.join(self._dir.name, "seed.csv")
                _write_rows_of_models(self.seed_data, seed, self.seed_models)
            args.append(f"--seed_data={seed}")
        args += self.extra_flags
        # OpenMP threads spinning on busy cores slow training badly (CI runs tests in parallel).
        env = dict(os.environ, OMP_WAIT_POLICY="passive")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=env)
        try:
            self.port = wait_for(lambda: _read_port(port_file), "the port file",
                                 START_TIMEOUT_SECONDS, self._exited)
            self.metrics_port = wait_for(self._logged_metrics_port, "metrics_port in the log",
                                         START_TIMEOUT_SECONDS, self._exited)
        except Exception as e:
            self.stop()
            tail = self.log_tail()
            self.cleanup()
            raise RuntimeError(f"{e}\n{tail}") from None

    def wait_until_serving(self, timeout_seconds: float = SERVING_TIMEOUT_SECONDS) -> None:
        """Until health says perfcast.v1.PredictionService is SERVING (a model is loaded)."""
        from perfcast_client import Client, PerfcastError

        with Client(self.target, **self.client_options) as client:
            try:
                client.wait_until_serving(timeout_seconds=timeout_seconds)
            except PerfcastError as e:
                raise RuntimeError(f"{e}\n{self.log_tail()}") from None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_SECONDS. Returns the exit status (negative:
        killed by that signal)."""
        if self.process is not None and self.exit_code is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.exit_code = self.process.returncode
        return self.exit_code

    def cleanup(self) -> None:
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def log_text(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return "--- server log (tail) ---\n" + "\n".join(tail)

    def __enter__(self) -> PerfcastTestServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    def _exited(self) -> str | None:
        assert self.process is not None
        code = self.process.poll()
        return None if code is None else f"server exited with status {code}"

    def _logged_metrics_port(self) -> int | None:
        with open(self.log_path, "rb") as f:
            match = _METRICS_PORT_RE.search(f.read())
        return int(match.group(1)) if match else None


def _read_port(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return int(text.splitlines()[0]) if text else None


def _write_rows_of_models(source: str, destination: str, models: Sequence[str]) -> None:
    with open(source, newline="") as f_in, open(destination, "w", newline="") as f_out:
        reader = csv.DictReader(f_in)
        writer = csv.DictWriter(f_out, fieldnames=reader.fieldnames)
        writer.writeheader()
        rows = [row for row in reader if row["model"] in models]
        if not rows:
            raise RuntimeError(f"{source} has no rows of {models}")
        writer.writerows(rows)
