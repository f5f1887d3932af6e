#!/usr/bin/python3
"""Pick the cheapest configuration that reaches a target throughput, with confidence.

A scheduler's question: of these offers (a configuration and its price per GPU-hour), which is the
cheapest per hour that still serves our workload at >= TARGET generated tokens/s, judged by the
LOWER bound of perfcast's prediction at the given confidence? The decision is one Plan call: the
server tries every batch size up to --max-batch-size for every offer, keeps per offer the one
that needs the fewest replicas, and ranks the offers by dollars per hour.

The capacity counted for an offer is the lower end of the prediction's interval at the given
confidence, a bound the throughput exceeds with at least that probability, and one that holds
for every batch size of the offer's curve at once, so that it still holds at the one chosen.

--max-replicas 1 (the default) asks that ONE replica of an offer reach the target, at the
smallest batch size that does (the lowest batch latency); --max-replicas N allows up to N
replicas of it, 0 any number. An offer that needs more is listed with the replicas it needs.

    pip install ./clients/python          # once, in a virtual environment (see the README);
    clients/python/generate_stubs.sh      # or, in a clone: stubs into clients/python/generated
    clients/python/examples/cheapest_configuration.py --server localhost:50051 \\
        --target 3000 --confidence 0.95 --input-tokens 512 --output-tokens 512 \\
        [--max-replicas 1] [--candidates offers.csv] [--json]

offers.csv columns: hardware,gpu_count,framework,model,precision,cost_per_gpu_hour. Without it,
a built-in list of Llama-3-8B offers with illustrative prices is used. Plan takes prices per
hardware, so every offer of one hardware must have the same price per GPU-hour (an error
otherwise).

Exit status: 0 a configuration was chosen, 2 none reaches the target, 1 error.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

if importlib.util.find_spec("perfcast_client") is None:
    # Not installed: run from a clone, where the package sits in clients/python.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from perfcast_client import (  # noqa: E402  (after the path set-up above)
    Client,
    Configuration,
    OperatingPoint,
    PerfcastError,
    Plan,
    PlanOption,
    RequestShape,
)


@dataclass(frozen=True)
class Candidate:
    configuration: Configuration
    cost_per_gpu_hour: float

    @property
    def cost_per_hour(self) -> float:
        """One replica's price."""
        return self.configuration.gpu_count * self.cost_per_gpu_hour


@dataclass(frozen=True)
class Verdict:
    """What the plan says of one offer."""

    candidate: Candidate
    # The server's plan for the offer; None when it rejected the offer.
    option: PlanOption | None
    # Why the offer does not qualify: the server's CandidateRejection name, or
    # "EXCEEDS_MAX_REPLICAS"; None when it qualifies.
    reason: str | None
    detail: str

    @property
    def qualifies(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Decision:
    plan: Plan
    verdicts: tuple[Verdict, ...]  # in offer order
    choice: Verdict | None  # the first qualifying offer in the plan's ranking


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


def prices_by_hardware(candidates: Sequence[Candidate]) -> dict[str, float]:
    """The offers' prices per GPU-hour by hardware, as Plan takes them. ValueError when one
    hardware is offered at two prices (Plan cannot tell its offers apart by price)."""
    prices: dict[str, float] = {}
    for c in candidates:
        hardware = c.configuration.hardware
        known = prices.setdefault(hardware, c.cost_per_gpu_hour)
        if known != c.cost_per_gpu_hour:
            raise ValueError(
                f"hardware {hardware!r} is offered at ${known:g} and ${c.cost_per_gpu_hour:g} "
                f"per GPU-hour; Plan prices per hardware, so give each hardware one price per "
                f"GPU-hour (or plan its offers separately)")
    return prices


def plan_offers(client: Client, candidates: Sequence[Candidate], *, input_tokens: int,
                output_tokens: int, target_tokens_per_second: float, confidence: float,
                batch_sizes: Sequence[int], timeout_seconds: float | None = None) -> Plan:
    """One Plan call for the offers (every page of it), ranked by dollars per hour."""
    if not candidates:
        raise ValueError("no offers to plan")  # Plan would enumerate candidates of its own
    request = dict(
        model=candidates[0].configuration.model,  # each candidate names its own model
        shapes=[RequestShape(input_tokens, output_tokens)],
        output_tokens_per_second=target_tokens_per_second,
        confidence=confidence,
        candidates=[c.configuration for c in candidates],
        batch_sizes=batch_sizes,
        prices=prices_by_hardware(candidates),
        ranking="cost",
        page_size=1000,
        timeout_seconds=timeout_seconds,
    )
    plan = client.plan(**request)
    options = list(plan.options)
    token = plan.next_page_token
    while token:  # later pages from the same model version (rejections come on the first)
        page = client.plan(**request, page_token=token, model_version=plan.model_version)
        options.extend(page.options)
        token = page.next_page_token
    return dataclasses.replace(plan, options=tuple(options), next_page_token="")


def _key(c: Configuration) -> tuple:
    # What an offer is; the server answers the configuration as given (campaign and batch
    # semantics included), so these five tell the offers apart.
    return (c.hardware, c.gpu_count, c.framework, c.model, c.precision)


def decide(candidates: Sequence[Candidate], plan: Plan, max_replicas: int) -> Decision:
    """The verdict on every offer and the choice: the plan's best-ranked option that needs at
    most max_replicas replicas (0: any number). Per offer the plan already needs the fewest
    replicas, so an offer over the limit has no operating point within it."""
    ranked = list(plan.options)
    options = {_key(o.configuration): o for o in reversed(ranked)}
    rejected = {_key(r.configuration): r for r in reversed(plan.rejected)}
    verdicts = []
    for c in candidates:
        key = _key(c.configuration)
        option = options.get(key)
        if option is not None:
            p = option.planned
            if max_replicas and p.replicas > max_replicas:
                verdicts.append(Verdict(
                    c, option, "EXCEEDS_MAX_REPLICAS",
                    f"needs {p.replicas} replicas of {p.tokens_per_second_per_replica:.4g} "
                    f"tokens/s at batch {p.batch_size}, more than --max-replicas {max_replicas}"))
            else:
                verdicts.append(Verdict(c, option, None, ""))
        elif key in rejected:
            r = rejected[key]
            verdicts.append(Verdict(c, None, r.reason.name, r.detail))
        else:
            raise ValueError(f"the plan says nothing of offer {_describe(c.configuration)}")
    choice = None
    for o in ranked:  # the best-ranked option whose offer qualifies
        choice = next((v for v in verdicts
                       if v.qualifies and _key(v.candidate.configuration) == _key(o.configuration)),
                      None)
        if choice is not None:
            break
    return Decision(plan, tuple(verdicts), choice)


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


def _point_json(p: OperatingPoint, predicted_per_replica: float | None) -> dict:
    result = {
        "batch_size": p.batch_size,
        "replicas": p.replicas,
        "cost_per_hour": p.cost_per_hour,
        "lower_tokens_per_second_per_replica": p.tokens_per_second_per_replica,
        "lower_tokens_per_second": p.replicas * p.tokens_per_second_per_replica,
        "batch_latency_seconds": p.batch_latency_seconds,
    }
    if predicted_per_replica is not None:
        result.update(predicted_tokens_per_second_per_replica=predicted_per_replica,
                      predicted_tokens_per_second=p.replicas * predicted_per_replica)
    return result


def _option_json(o: PlanOption) -> dict:
    result = _point_json(o.planned, o.predicted_tokens_per_second_per_replica)
    result["prediction_case"] = o.prediction_case.name
    result["expected_relative_error"] = o.expected_relative_error
    # What the predictions alone would plan: the difference in cost is the cost of certainty.
    result["point_estimate"] = (None if o.point_estimate is None else {
        "batch_size": o.point_estimate.batch_size,
        "replicas": o.point_estimate.replicas,
        "cost_per_hour": o.point_estimate.cost_per_hour,
    })
    return result


def _verdict_json(v: Verdict, choice: Verdict | None) -> dict:
    return {
        "configuration": vars(v.candidate.configuration),
        "cost_per_gpu_hour": v.candidate.cost_per_gpu_hour,
        "verdict": "chosen" if v is choice else ("qualifies" if v.qualifies else "rejected"),
        "reason": v.reason,
        "detail": v.detail,
        "planned": _option_json(v.option) if v.option is not None else None,
    }


def as_json(decision: Decision, max_replicas: int) -> dict:
    choice = decision.choice
    chosen = None
    if choice is not None:
        chosen = {"configuration": vars(choice.candidate.configuration),
                  "cost_per_gpu_hour": choice.candidate.cost_per_gpu_hour,
                  **_option_json(choice.option)}
    return {
        "model_version": decision.plan.model_version,
        "target_tokens_per_second": decision.plan.demand_output_tokens_per_second,
        "confidence": decision.plan.confidence,
        "max_replicas": max_replicas,
        "choice": chosen,
        "candidates": [_verdict_json(v, choice) for v in decision.verdicts],
    }


def print_table(decision: Decision, args: argparse.Namespace) -> None:
    limit = "any number of replicas" if args.max_replicas == 0 else (
        "one replica" if args.max_replicas == 1 else f"at most {args.max_replicas} replicas")
    print(f"target {args.target:g} tokens/s at the lower bound of "
          f"{decision.plan.confidence:.0%} confidence, {args.input_tokens} in / "
          f"{args.output_tokens} out tokens per request, {limit} per offer")
    print(f"{'$/hour':>8}  {'replicas':>8}  {'batch':>5}  {'lower tok/s':>11}  "
          f"{'predicted':>9}  {'case':<18}  configuration")
    for v in sorted(decision.verdicts, key=lambda v: (
            v.option.planned.cost_per_hour if v.option else float("inf"),
            v.candidate.cost_per_hour)):
        line = _describe(v.candidate.configuration)
        if v.option is not None:
            o, p = v.option, v.option.planned
            print(f"{p.cost_per_hour:8.2f}  {p.replicas:8d}  {p.batch_size:5d}  "
                  f"{p.replicas * p.tokens_per_second_per_replica:11.0f}  "
                  f"{p.replicas * o.predicted_tokens_per_second_per_replica:9.0f}  "
                  f"{o.prediction_case.name:<18}  {line}")
        else:
            print(f"{'-':>8}  {'-':>8}  {'-':>5}  {'-':>11}  {'-':>9}  {'-':<18}  {line}")
        if v is decision.choice:
            print(f"{'':>8}  chosen")
        elif not v.qualifies:
            print(f"{'':>8}  {v.reason}: {v.detail}")
    choice = decision.choice
    if choice is None:
        print("choice: none reaches the target")
        return
    o, p = choice.option, choice.option.planned
    replicas = "" if p.replicas == 1 else f"{p.replicas} replicas, "
    print(f"choice: {_describe(choice.candidate.configuration)} at "
          f"${p.cost_per_hour:.2f}/hour, {replicas}batch size {p.batch_size}: "
          f"{p.replicas * p.tokens_per_second_per_replica:.0f} tokens/s or more "
          f"(predicted {p.replicas * o.predicted_tokens_per_second_per_replica:.0f}), "
          f"batch latency {p.batch_latency_seconds:.2f} s")
    if o.point_estimate is not None and o.point_estimate.cost_per_hour < p.cost_per_hour:
        print(f"        on the prediction alone: ${o.point_estimate.cost_per_hour:.2f}/hour "
              f"({o.point_estimate.replicas} replicas at batch {o.point_estimate.batch_size})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="localhost:50051", help="host:port of perfcast-server")
    parser.add_argument("--target", type=float, required=True,
                        help="generated tokens/s the configuration must reach")
    parser.add_argument("--confidence", type=float, default=0.9,
                        help="probability, at least, that the throughput exceeds the lower "
                             "bound judged")
    parser.add_argument("--input-tokens", type=int, default=128)
    parser.add_argument("--output-tokens", type=int, default=128)
    parser.add_argument("--max-batch-size", type=int, default=256)
    parser.add_argument("--max-replicas", type=int, default=1,
                        help="replicas of one offer allowed to reach the target (0: any number)")
    parser.add_argument("--candidates", help="CSV of offers (default: a built-in list)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-call deadline, seconds")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    try:
        if args.max_replicas < 0:
            raise ValueError(f"--max-replicas {args.max_replicas}: must be >= 0 (0: any number)")
        if args.max_batch_size < 1:
            raise ValueError(f"--max-batch-size {args.max_batch_size}: must be >= 1")
        candidates = read_candidates(args.candidates) if args.candidates else DEFAULT_CANDIDATES
        with Client(args.server, timeout_seconds=args.timeout) as client:
            plan = plan_offers(client, candidates, input_tokens=args.input_tokens,
                               output_tokens=args.output_tokens,
                               target_tokens_per_second=args.target, confidence=args.confidence,
                               batch_sizes=default_batch_sizes(args.max_batch_size))
        decision = decide(candidates, plan, args.max_replicas)
    except (PerfcastError, ValueError, KeyError, OSError) as e:
        print(f"cheapest_configuration: {e}", file=sys.stderr)
        return 1

    if args.json:
        json.dump(as_json(decision, args.max_replicas), sys.stdout, indent=2)
        print()
    else:
        print_table(decision, args)
    return 0 if decision.choice else 2


if __name__ == "__main__":
    sys.exit(main())
