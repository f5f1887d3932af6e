#!/usr/bin/python3
"""Runs a command against a fresh perfcast-server: starts the server (perfcast_test_server.py),
waits until a model serves, runs COMMAND with PERFCAST_SERVER=127.0.0.1:PORT and
PERFCAST_METRICS_URL in its environment, then stops the server.

    run_with_server.py [--timeout SECONDS] -- COMMAND [ARG...]

Exit status: the command's, or 1 when the server failed to start, to serve, or to shut down
cleanly on SIGTERM (exit status 0).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perfcast_test_server import PerfcastTestServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds the command may run")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()

    with PerfcastTestServer() as server:
        server.wait_until_serving()
        env = dict(os.environ, PERFCAST_SERVER=server.target,
                   PERFCAST_METRICS_URL=server.metrics_url)
        try:
            code = subprocess.run(args.command, env=env, timeout=args.timeout).returncode
        except FileNotFoundError:
            print(f"run_with_server: {args.command[0]} not found", file=sys.stderr)
            code = 1
        except subprocess.TimeoutExpired:
            print(f"run_with_server: {args.command[0]} ran past {args.timeout:.0f} s",
                  file=sys.stderr)
            code = 1
        stopped = server.stop()
        if stopped != 0:
            print(f"run_with_server: server exited with {stopped} on SIGTERM\n"
                  f"{server.log_tail()}", file=sys.stderr)
            code = code or 1
        elif code != 0:
            print(server.log_tail(), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
