#!/usr/bin/python3
"""Pick the cheapest configuration that reaches a target throughput, with confidence.

A scheduler's question: of these offers (a configuration and its price per GPU-hour), which is the
cheapest per hour that still serves our workload at >= TARGET generated tokens/s, judged by the
LOWER end of perfcast's prediction interval at the given confidence level? A configuration
qualifies when some batch size up to --max-batch-size reaches the target; the smallest such
batch size is reported (the lowest batch latency). One Predict call covers every offer.

    pip install ./clients/python          # once, in a virtual environment (see the README);
    clients/python/generate_stubs.sh      # or, in a clone: stubs into clients/python/generated
    clients/python/examples/cheapest_configuration.py --server localhost:50051 \\
        --target 3000 --confidence 0.95 --input-tokens 512 --output-tokens 512 \\
        [--candidates offers.csv] [--json]

offers.csv columns: hardware,gpu_count,framework,model,precision,cost_per_gpu_hour. Without it,
a built-in list of Llama-3-8B offers with illustrative prices is used.

Exit status: 0 a configuration was chosen, 2 none reaches the target, 1 error.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import sys
from dataclasses import dataclass

if importlib.util.find_spec("perfcast_client") is None:
    # Not installed: run from a clone, where the package sits in clients/python.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from perfcast_client import (  # noqa: E402  (after the path set-up above)
    Client,
    Configuration,
    CurvePoint,
    PerfcastError,
    Prediction,
    Query,
)


@dataclass(frozen=True)
class Candidate:
    configuration: Configuration
    cost_per_gpu_hour: float

    @property
    def cost_per_hour(self) -> float:
        return self.configuration.gpu_count * self.cost_per_gpu_hour


@dataclass(frozen=True)
class Assessment:
    candidate: Candidate
    prediction: Prediction
    # The smallest batch size whose lower bound reaches the target; None: none does.
    point: CurvePoint | None

    @property
    def best_lower_tokens_per_second(self) -> float:
        return max(p.throughput_lower_tokens_per_second for p in self.prediction.points)


DEFAULT_CANDIDATES = tuple(
    Candidate(Configuration(hardware, gpus, "vllm", "meta-llama/Meta-Llama-3-8B", "fp16"), price)
    for hardware, gpus, price in (
        ("NVIDIA A100", 1, 1.80),
        ("NVIDIA A100", 2, 1.80),
        ("NVIDIA H100", 1, 3.00),
        ("NVIDIA H100", 2, 3.00),
        ("NVIDIA H100", 4, 3.00),
        ("NVIDIA GH200", 1, 3.50),
        ("AMD MI300X", 1, 2.60),
        ("AMD MI300X", 2, 2.60),
    ))


def default_batch_sizes(max_batch_size: int) -> tuple[int, ...]:
    """Powers of two up to max_batch_size, and max_batch_size itself."""
    sizes = []
    size = 1
    while size < max_batch_size:
        sizes.append(size)
        size *= 2
    sizes.append(max_batch_size)
    return tuple(sizes)


def assess(client: Client, candidates: list[Candidate] | tuple[Candidate, ...], *,
           input_tokens: int, output_tokens: int, target_tokens_per_second: float,
           confidence_level: float, batch_sizes: tuple[int, ...]) -> list[Assessment]:
    """Predicts every candidate in one call; the answers all come from one model version."""
    queries = [Query(c.configuration, input_tokens, output_tokens, batch_sizes, confidence_level)
               for c in candidates]
    assessments = []
    for candidate, prediction in zip(candidates, client.predict(queries), strict=True):
        reaching = [p for p in prediction.points
                    if p.throughput_lower_tokens_per_second >= target_tokens_per_second]
        point = min(reaching, key=lambda p: p.batch_size) if reaching else None
        assessments.append(Assessment(candidate, prediction, point))
    return assessments


def choose_cheapest(assessments: list[Assessment]) -> Assessment | None:
    """The cheapest qualifying assessment per hour; ties go to the larger guaranteed throughput."""
    qualifying = [a for a in assessments if a.point is not None]
    if not qualifying:
        return None
    return min(qualifying, key=lambda a: (a.candidate.cost_per_hour,
                                          -a.point.throughput_lower_tokens_per_second))


def read_candidates(path: str) -> list[Candidate]:
    with open(path, newline="") as f:
        return [
            Candidate(
                Configuration(row["hardware"], int(row["gpu_count"]), row["framework"],
                              row["model"], row["precision"]),
                float(row["cost_per_gpu_hour"]),
            ) for row in csv.DictReader(f)
        ]


def _describe(c: Configuration) -> str:
    return f"{c.gpu_count}x {c.hardware} {c.framework} {c.model} {c.precision}"


def _as_json(assessment: Assessment) -> dict:
    c = assessment.candidate
    result = {
        "configuration": vars(c.configuration),
        "cost_per_hour": c.cost_per_hour,
        "prediction_case": assessment.prediction.prediction_case.name,
        "best_lower_tokens_per_second": assessment.best_lower_tokens_per_second,
        "reaches_target": assessment.point is not None,
    }
    if assessment.point is not None:
        p = assessment.point
        result.update(batch_size=p.batch_size,
                      throughput_tokens_per_second=p.throughput_tokens_per_second,
                      throughput_lower_tokens_per_second=p.throughput_lower_tokens_per_second,
                      batch_latency_seconds=p.batch_latency_seconds)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="localhost:50051", help="host:port of perfcast-server")
    parser.add_argument("--target", type=float, required=True,
                        help="generated tokens/s the configuration must reach")
    parser.add_argument("--confidence", type=float, default=0.9,
                        help="confidence level of the interval whose lower end must reach it")
    parser.add_argument("--input-tokens", type=int, default=128)
    parser.add_argument("--output-tokens", type=int, default=128)
    parser.add_argument("--max-batch-size", type=int, default=256)
    parser.add_argument("--candidates", help="CSV of offers (default: a built-in list)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-call deadline, seconds")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    candidates = read_candidates(args.candidates) if args.candidates else DEFAULT_CANDIDATES
    try:
        with Client(args.server, timeout_seconds=args.timeout) as client:
            assessments = assess(client, candidates, input_tokens=args.input_tokens,
                                 output_tokens=args.output_tokens,
                                 target_tokens_per_second=args.target,
                                 confidence_level=args.confidence,
                                 batch_sizes=default_batch_sizes(args.max_batch_size))
    except PerfcastError as e:
        print(f"cheapest_configuration: {e}", file=sys.stderr)
        return 1
    choice = choose_cheapest(assessments)

    if args.json:
        json.dump({
            "model_version": assessments[0].prediction.model_version if assessments else 0,
            "choice": _as_json(choice) if choice else None,
            "candidates": [_as_json(a) for a in assessments],
        }, sys.stdout, indent=2)
        print()
    else:
        print(f"target {args.target:g} tokens/s at the lower end of the "
              f"{args.confidence:.0%} interval, {args.input_tokens} in / "
              f"{args.output_tokens} out tokens per request")
        print(f"{'$/hour':>8}  {'lower tok/s':>11}  {'batch':>5}  {'case':<18}  configuration")
        for a in sorted(assessments, key=lambda a: a.candidate.cost_per_hour):
            batch = str(a.point.batch_size) if a.point else "-"
            print(f"{a.candidate.cost_per_hour:8.2f}  {a.best_lower_tokens_per_second:11.0f}  "
                  f"{batch:>5}  {a.prediction.prediction_case.name:<18}  "
                  f"{_describe(a.candidate.configuration)}")
        if choice:
            p = choice.point
            print(f"choice: {_describe(choice.candidate.configuration)} at "
                  f"${choice.candidate.cost_per_hour:.2f}/hour, batch size {p.batch_size}: "
                  f"{p.throughput_lower_tokens_per_second:.0f} tokens/s or more "
                  f"(predicted {p.throughput_tokens_per_second:.0f}), "
                  f"batch latency {p.batch_latency_seconds:.2f} s")
        else:
            print("choice: none reaches the target")
    return 0 if choice else 2


if __name__ == "__main__":
    sys.exit(main())
