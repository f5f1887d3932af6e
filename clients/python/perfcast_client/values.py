"""Plain, immutable values the client takes and returns; no gRPC or protobuf types leak out.

Field names and units follow proto/perfcast/v1/perfcast.proto, which documents their meaning.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Self


class _WireEnum(enum.IntEnum):
    """An API enum whose 0 is UNSPECIFIED: a value this client does not know (a newer server's)
    reads as UNSPECIFIED rather than failing."""

    @classmethod
    def from_wire(cls, value: int) -> Self:
        try:
            return cls(value)
        except ValueError:
            return cls(0)


class PredictionCase(_WireEnum):
    """How well a prediction is supported by data, most to least (values as on the wire)."""

    UNSPECIFIED = 0
    MEASURED = 1
    INTERPOLATED = 2
    EXTRAPOLATED_SHAPE = 3
    EXTRAPOLATED_BATCH = 4
    NEW_CONFIGURATION = 5


class MemoryFit(_WireEnum):
    """Whether a point's batch fits in the GPUs' memory (values as on the wire)."""

    UNSPECIFIED = 0  # a server that predates the memory fit
    FITS = 1
    DOES_NOT_FIT = 2  # the point has no usable throughput (0)
    UNKNOWN = 3  # the catalogue lacks a figure; memory_fit_reason says which


class LatencyStatistic(_WireEnum):
    """Which statistic over requests a point's TTFT and ITL are (values as on the wire)."""

    UNSPECIFIED = 0  # no latency answer for the point
    MEAN = 1  # the mean over requests; the training data hold no percentiles


@dataclass(frozen=True)
class Configuration:
    """What stays fixed while a benchmark sweeps batch sizes. Strings are case-sensitive."""

    hardware: str  # e.g. "NVIDIA H100"
    gpu_count: int  # accelerators per model replica, >= 1
    framework: str  # e.g. "vllm"
    model: str  # Hugging Face id
    precision: str  # e.g. "fp16"
    # Who measured, with which harness (1 to 128 bytes). In a result: its campaign (None: the
    # submitter's unnamed one). In a query: that campaign's level (None: the population).
    campaign: str | None = None
    # What the batch size counts: "static" (default), "concurrency" or "max_throughput".
    batch_semantics: str = "static"


@dataclass(frozen=True)
class Query:
    """A configuration, a request shape and the static batch sizes to predict."""

    configuration: Configuration
    input_tokens: int
    output_tokens: int
    batch_sizes: tuple[int, ...]
    # In (0, 1); None lets the server use its default (0.9).
    confidence_level: float | None = None


@dataclass(frozen=True)
class CurvePoint:
    batch_size: int
    throughput_tokens_per_second: float  # generated tokens/s of the whole system
    throughput_lower_tokens_per_second: float  # interval at Prediction.confidence_level
    throughput_upper_tokens_per_second: float
    batch_latency_seconds: float
    prediction_case: PredictionCase
    # Whether the batch fits in memory; DOES_NOT_FIT points have throughput, interval and latency
    # 0. The reason gives the figures, or what the catalogue lacks. Per GPU, in GiB (2^30 bytes):
    # what the point needs and what it may use (0 when unknown). Defaults: an older server.
    memory_fit: MemoryFit = MemoryFit.UNSPECIFIED
    memory_fit_reason: str = ""
    memory_required_gib_per_gpu: float = 0.0
    memory_available_gib_per_gpu: float = 0.0

    @property
    def fits(self) -> bool | None:
        """True or False, or None when unknown (or the server predates the memory fit)."""
        if self.memory_fit == MemoryFit.FITS:
            return True
        if self.memory_fit == MemoryFit.DOES_NOT_FIT:
            return False
        return None

    # Mean time to first token and inter-token latency with their intervals; None where the
    # server has no latency answer (latency_statistic UNSPECIFIED). They agree with the
    # throughput: batch_latency_seconds = ttft_seconds + (output_tokens - 1) * itl_seconds.
    ttft_seconds: float | None = None
    ttft_lower_seconds: float | None = None
    ttft_upper_seconds: float | None = None
    itl_seconds: float | None = None
    itl_lower_seconds: float | None = None
    itl_upper_seconds: float | None = None
    latency_statistic: LatencyStatistic = LatencyStatistic.UNSPECIFIED
    # The 99th percentile over requests of the TTFT and of each request's time per output token,
    # with their intervals; None where the server does not answer them (0 on the wire).
    p99_ttft_seconds: float | None = None
    p99_ttft_lower_seconds: float | None = None
    p99_ttft_upper_seconds: float | None = None
    p99_tpot_seconds: float | None = None
    p99_tpot_lower_seconds: float | None = None
    p99_tpot_upper_seconds: float | None = None


@dataclass(frozen=True)
class Prediction:
    """The answer to one Query: one point per requested batch size, in request order."""

    points: tuple[CurvePoint, ...]
    prediction_case: PredictionCase  # the least supported case among the points
    confidence_level: float  # the level actually used
    model_version: int
    # The largest batch (or concurrency) of the query's shape whose sequences all fit in memory
    # at once; 0 when unknown or when not even one fits (the points' memory_fit tells them apart).
    largest_fitting_batch_size: int = 0


@dataclass(frozen=True)
class ObservedCurve:
    configuration: Configuration
    input_tokens: int
    output_tokens: int
    distance: float  # 0 = the same curve


@dataclass(frozen=True)
class Uncertainty:
    similarity_score: float  # 1 = measured, towards 0 = nothing similar observed
    expected_relative_error: float  # 0.08 = 8 %
    nearest_curves: tuple[ObservedCurve, ...]
    prediction_case: PredictionCase
    model_version: int


@dataclass(frozen=True)
class BenchmarkResult:
    """One measured point. (source_id, configuration, shape, batch size) is its idempotency key."""

    source_id: str
    configuration: Configuration
    input_tokens: int
    output_tokens: int
    batch_size: int
    throughput_tokens_per_second: float
    batch_latency_seconds: float | None = None
    measure_time: datetime.datetime | None = None
    time_to_first_token_seconds: float | None = None
    inter_token_latency_seconds: float | None = None
    p99_time_to_first_token_seconds: float | None = None
    p99_time_per_output_token_seconds: float | None = None


@dataclass(frozen=True)
class Rejection:
    index: int  # position over the whole submission, from 0
    source_id: str
    field: str  # e.g. "throughput_tokens_per_second"
    reason: str


@dataclass(frozen=True)
class SubmitSummary:
    accepted_count: int
    duplicate_count: int
    rejected_count: int
    rejections: tuple[Rejection, ...] = field(default_factory=tuple)  # at most 1000 listed
    # Stored but held back from training: far outside what the model predicts for their
    # already-measured configuration and campaign (Client.list_quarantined says why).
    quarantined_count: int = 0


@dataclass(frozen=True)
class QuarantinedResult:
    """A result the server stored in quarantine: kept, never trained on until released."""

    id: int  # what release_quarantined and drop_quarantined take
    result: BenchmarkResult
    reason: str
    submitted_by: str  # the token's name; "" on a server without --auth-tokens
    submit_time: datetime.datetime | None


@dataclass(frozen=True)
class QuarantineChange:
    """What release_quarantined or drop_quarantined did."""

    changed_count: int  # released or dropped
    not_found_ids: tuple[int, ...]  # not in quarantine (unknown, released or dropped)


@dataclass(frozen=True)
class RefitResult:
    refit_id: int
    # With wait: the version the refit produced. Without: the version serving now.
    model_version: int
    training_duration_seconds: float  # 0 without wait


@dataclass(frozen=True)
class ModelVersion:
    version: int
    state: str  # "AVAILABLE", "END", "FAILED", "LOADING", "UNLOADING", "UNSPECIFIED"
    error_message: str
    train_time: datetime.datetime | None
    training_duration_seconds: float
    training_point_count: int
    configuration_count: int
    curve_count: int


@dataclass(frozen=True)
class LastRefit:
    refit_id: int
    outcome: str  # "RUNNING", "SUCCEEDED", "FAILED"
    trigger: str  # "count", "quiet", "rpc", "seed", "startup" or "forwarded"
    model_version: int
    duration_seconds: float
    error_message: str


@dataclass(frozen=True)
class ModelStatus:
    versions: tuple[ModelVersion, ...]  # newest first
    last_refit: LastRefit | None
    stored_result_count: int
    results_since_refit_count: int

    @property
    def serving_version(self) -> int | None:
        """The AVAILABLE version, or None while no model is loaded."""
        for v in self.versions:
            if v.state == "AVAILABLE":
                return v.version
        return None


# --- Plan ---------------------------------------------------------------------------------------


class CandidateRejection(_WireEnum):
    """Why a candidate has no plan option (values as on the wire)."""

    UNSPECIFIED = 0
    DOES_NOT_FIT = 1
    MISSES_TTFT = 2
    MISSES_ITL = 3
    MISSES_BATCH_LATENCY = 4
    NO_LATENCY_PREDICTION = 5
    NO_PRICE = 6
    UNKNOWN_CONFIGURATION = 7
    TOO_MANY_REPLICAS = 8


@dataclass(frozen=True)
class RequestShape:
    """One request shape of a workload and its share of the requests (any positive scale)."""

    input_tokens: int
    output_tokens: int
    weight: float = 1.0


@dataclass(frozen=True)
class OperatingPoint:
    """Where a candidate's replicas run and how many the demand needs."""

    batch_size: int
    replicas: int
    # Generated tokens/s per replica: the lower bound at the plan's confidence (or, in a
    # point-estimate plan, the prediction).
    tokens_per_second_per_replica: float
    batch_latency_seconds: float
    cost_per_hour: float  # 0 without a price
    # The worst shape's bounds (or predictions); None when the model predicts no latencies.
    ttft_seconds: float | None = None
    itl_seconds: float | None = None


@dataclass(frozen=True)
class PlanOption:
    configuration: Configuration
    planned: OperatingPoint  # at the plan's confidence
    # What the predictions alone would plan for this candidate; None when they meet no objective.
    point_estimate: OperatingPoint | None
    predicted_tokens_per_second_per_replica: float
    usd_per_gpu_hour: float | None
    total_gpus: int
    cost_per_million_output_tokens: float
    memory_fit: MemoryFit
    memory_fit_reason: str
    prediction_case: PredictionCase
    expected_relative_error: float


@dataclass(frozen=True)
class RejectedCandidate:
    configuration: Configuration
    reason: CandidateRejection
    detail: str  # with the figures


@dataclass(frozen=True)
class Plan:
    """Ranked options (the first is the plan), every rejected candidate and what planning on the
    predictions alone would choose."""

    options: tuple[PlanOption, ...]  # one page of them
    rejected: tuple[RejectedCandidate, ...]  # in candidate order; on the first page only
    total_options: int  # over all pages
    next_page_token: str  # for plan(page_token=...); "" on the last page
    model_version: int
    demand_output_tokens_per_second: float
    confidence: float
    # The option a planner reading the predictions alone would rank first: its `planned` (and
    # `point_estimate`, the same) is that point-estimate plan, with its own figures.
    cheapest_point_estimate: PlanOption | None
