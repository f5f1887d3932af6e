"""perfcast_client: a typed Python client for perfcast-server.

    from perfcast_client import Client, Configuration, Query

    with Client("localhost:50051") as client:
        client.wait_until_serving(timeout_seconds=30)
        [prediction] = client.predict([Query(Configuration("NVIDIA H100", 1, "vllm",
                                                           "meta-llama/Meta-Llama-3-8B", "fp16"),
                                             input_tokens=128, output_tokens=128,
                                             batch_sizes=(1, 16, 64))])

Runtime: Debian's python3-grpcio and python3-protobuf. `pip install ./clients/python` installs
the generated stubs with the package; in a clone, generate_stubs.sh writes them.
"""

from perfcast_client.client import MODEL_SERVICE, PREDICTION_SERVICE, Client, PerfcastError
from perfcast_client.values import (
    BenchmarkResult,
    CandidateRejection,
    Configuration,
    CurvePoint,
    LastRefit,
    MemoryFit,
    LatencyStatistic,
    ModelStatus,
    ModelVersion,
    ObservedCurve,
    OperatingPoint,
    Plan,
    PlanOption,
    Prediction,
    PredictionCase,
    QuarantineChange,
    QuarantinedResult,
    Query,
    RefitResult,
    RejectedCandidate,
    Rejection,
    RequestShape,
    SubmitSummary,
    Uncertainty,
)

__all__ = [
    "BenchmarkResult",
    "CandidateRejection",
    "Client",
    "Configuration",
    "CurvePoint",
    "LastRefit",
    "MemoryFit",
    "LatencyStatistic",
    "MODEL_SERVICE",
    "ModelStatus",
    "ModelVersion",
    "ObservedCurve",
    "OperatingPoint",
    "Plan",
    "PlanOption",
    "PREDICTION_SERVICE",
    "PerfcastError",
    "Prediction",
    "PredictionCase",
    "QuarantineChange",
    "QuarantinedResult",
    "Query",
    "RefitResult",
    "RejectedCandidate",
    "Rejection",
    "RequestShape",
    "SubmitSummary",
    "Uncertainty",
]
