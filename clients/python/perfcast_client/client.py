"""A small typed client for perfcast-server (proto/perfcast/v1/perfcast.proto).

Every call has a deadline (the client's default or `timeout_seconds=`) and raises PerfcastError,
which carries the gRPC status code, when the server answers with an error or cannot be reached.

Thread safety: a Client may be shared by threads (gRPC channels and stubs are thread-safe).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence

import grpc

from perfcast_client import _stubs
from perfcast_client._stubs import health_pb, pb
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

PREDICTION_SERVICE = "perfcast.v1.PredictionService"
MODEL_SERVICE = "perfcast.v1.ModelService"


class PerfcastError(Exception):
    """A failed call: `code` is the grpc.StatusCode, `details` the server's message.

    For INVALID_ARGUMENT the details name the field and the bad value, e.g.
    "result.throughput_tokens_per_second=nan: must be finite and > 0".
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str):
        super().__init__(f"{method} failed: {code.name}: {details}")
        self.method = method
        self.code = code
        self.details = details


class Client:
    """Talks to one perfcast-server, e.g. `Client("localhost:50051")`. Use as a context manager
    or call close()."""

    def __init__(
        self,
        target: str,
        *,
        timeout_seconds: float = 10.0,
        refit_timeout_seconds: float = 300.0,
        channel: grpc.Channel | None = None,
        token: str | None = None,
        tls_ca_file: str | None = None,
        tls_cert_file: str | None = None,
        tls_key_file: str | None = None,
    ):
        """target: "host:port". timeout_seconds: default deadline of every call;
        refit_timeout_seconds: default deadline of refit(wait=True), which waits for training.

        token: sent as `authorization: Bearer TOKEN` on every call (a server started with
        --auth-tokens requires one). tls_ca_file: PEM of the CA that signed the server's
        certificate; TLS is used when it is given. tls_cert_file and tls_key_file: this client's
        certificate and key, for a server that requires client certificates (mutual TLS)."""
        if (tls_cert_file is None) != (tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together (mutual TLS)")
        if tls_cert_file is not None and tls_ca_file is None:
            raise ValueError("tls_cert_file needs tls_ca_file (mutual TLS runs over TLS)")
        if channel is None:
            if tls_ca_file is not None:
                credentials = grpc.ssl_channel_credentials(
                    root_certificates=_read_bytes(tls_ca_file),
                    private_key=_read_bytes(tls_key_file) if tls_key_file else None,
                    certificate_chain=_read_bytes(tls_cert_file) if tls_cert_file else None)
                channel = grpc.secure_channel(target, credentials)
                self._owns_channel = True
            else:
                channel = grpc.insecure_channel(target)
                self._owns_channel = True
        else:
            self._owns_channel = False
        self._raw_channel = channel
        if token:
            channel = grpc.intercept_channel(channel, _BearerToken(token))
        self._channel = channel
        self._timeout = timeout_seconds
        self._refit_timeout = refit_timeout_seconds
        self._prediction = _stubs.pb_grpc.PredictionServiceStub(self._channel)
        self._model = _stubs.pb_grpc.ModelServiceStub(self._channel)
        self._health = _stubs.health_pb_grpc.HealthStub(self._channel)

    def close(self) -> None:
        if self._owns_channel:
            self._raw_channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Read path ------------------------------------------------------------------------

    def predict(
        self,
        queries: Sequence[Query],
        *,
        model_version: int | None = None,
        campaign: str | None = None,
        batch_semantics: str | None = None,
        timeout_seconds: float | None = None,
    ) -> list[Prediction]:
        """Curves for all queries in one call; result i answers queries[i]. All answers come
        from one model version (pin one with model_version; NOT_FOUND if it is not serving).
        campaign and batch_semantics, when given, replace those of every query's configuration:
        a campaign's level (None: the population of campaigns), and what the batch sizes count
        ("static", "concurrency" or "max_throughput")."""
        if batch_semantics is not None:
            _batch_semantics_to_pb(batch_semantics)  # ValueError before anything is sent
        overrides = {}
        if campaign is not None:
            overrides["campaign"] = campaign
        if batch_semantics is not None:
            overrides["batch_semantics"] = batch_semantics
        if overrides:
            queries = [dataclasses.replace(
                q, configuration=dataclasses.replace(q.configuration, **overrides))
                for q in queries]
        request = pb.PredictRequest(model_spec=_model_spec(model_version),
                                    queries=[_query_to_pb(q) for q in queries])
        response = self._call("Predict", self._prediction.Predict, request, timeout_seconds)
        return [_prediction_from_pb(p, response.model_version) for p in response.predictions]

    def uncertainty(
        self,
        query: Query,
        *,
        neighbor_count: int = 0,
        timeout_seconds: float | None = None,
    ) -> Uncertainty:
        """How far `query` lies from observed data. Uses at most its first batch size; 0
        neighbours means the server's default (5)."""
        request = pb.UncertaintyRequest(query=_query_to_pb(query), neighbor_count=neighbor_count)
        r = self._call("Uncertainty", self._prediction.Uncertainty, request, timeout_seconds)
        return Uncertainty(
            similarity_score=r.similarity_score,
            expected_relative_error=r.expected_relative_error,
            nearest_curves=tuple(
                ObservedCurve(
                    configuration=_configuration_from_pb(c.configuration),
                    input_tokens=c.input_tokens,
                    output_tokens=c.output_tokens,
                    distance=c.distance,
                ) for c in r.nearest_curves),
            prediction_case=PredictionCase.from_wire(r.prediction_case),
            model_version=r.model_version,
        )

    def plan(
        self,
        model: str,
        shapes: Sequence[RequestShape],
        *,
        output_tokens_per_second: float | None = None,
        requests_per_second: float | None = None,
        ttft_seconds: float | None = None,
        itl_seconds: float | None = None,
        batch_latency_seconds: float | None = None,
        confidence: float | None = None,
        precisions: Sequence[str] = (),
        candidates: Sequence[Configuration] = (),
        hardware: Sequence[str] = (),
        frameworks: Sequence[str] = (),
        max_gpu_count: int = 0,
        batch_sizes: Sequence[int] = (),
        batch_semantics: str = "static",
        campaign: str | None = None,
        prices: Mapping[str, float] | None = None,
        ranking: str = "cost",
        page_size: int = 0,
        page_token: str = "",
        model_version: int | None = None,
        timeout_seconds: float | None = None,
    ) -> Plan:
        """The cheapest configurations that serve the demand (one of output_tokens_per_second
        and requests_per_second) within the latency objectives with `confidence` (None: the
        server's 0.9): per candidate, the operating point that needs the fewest replicas judged
        by the lower bound of throughput and the upper bounds of latency; ranked by dollars per
        hour ("cost") or GPUs ("gpus"). Without candidates, the server enumerates what its data
        know for the model (narrowed by hardware, frameworks, max_gpu_count, precisions).
        prices: dollars per GPU-hour by hardware, over the server's --prices."""
        if (output_tokens_per_second is None) == (requests_per_second is None):
            raise ValueError("give one of output_tokens_per_second and requests_per_second")
        if ranking not in ("cost", "gpus"):
            raise ValueError(f"ranking={ranking!r}: must be 'cost' or 'gpus'")
        request = pb.PlanRequest(
            model_spec=_model_spec(model_version),
            model=model,
            precisions=list(precisions),
            shapes=[pb.RequestShape(input_tokens=s.input_tokens, output_tokens=s.output_tokens,
                                    weight=s.weight) for s in shapes],
            candidates=[_configuration_to_pb(c) for c in candidates],
            filter=pb.CandidateFilter(hardware=list(hardware), frameworks=list(frameworks),
                                      max_gpu_count=max_gpu_count),
            batch_sizes=list(batch_sizes),
            batch_semantics=_batch_semantics_to_pb(batch_semantics),
            prices=[pb.HardwarePrice(hardware=h, usd_per_gpu_hour=p)
                    for h, p in sorted((prices or {}).items())],
            ranking=pb.PlanRanking.Value("PLAN_RANKING_" + ranking.upper()),
            page_size=page_size,
            page_token=page_token,
        )
        if output_tokens_per_second is not None:
            request.output_tokens_per_second = output_tokens_per_second
        else:
            request.requests_per_second = requests_per_second
        for name, value in (("ttft_seconds", ttft_seconds), ("itl_seconds", itl_seconds),
                            ("batch_latency_seconds", batch_latency_seconds)):
            if value is not None:
                setattr(request.slo, name, value)
        if confidence is not None:
            request.confidence = confidence
        if campaign is not None:
            request.campaign = campaign
        r = self._call("Plan", self._prediction.Plan, request, timeout_seconds)
        return Plan(
            options=tuple(_plan_option_from_pb(o) for o in r.options),
            rejected=tuple(RejectedCandidate(
                configuration=_configuration_from_pb(c.configuration),
                reason=CandidateRejection.from_wire(c.reason), detail=c.detail)
                for c in r.rejected),
            total_options=r.total_options,
            next_page_token=r.next_page_token,
            model_version=r.model_version,
            demand_output_tokens_per_second=r.demand_output_tokens_per_second,
            confidence=r.confidence,
            cheapest_point_estimate=(_plan_option_from_pb(r.cheapest_point_estimate)
                                     if r.HasField("cheapest_point_estimate") else None),
        )

    # --- Write and control path ------------------------------------------------------------

    def submit(
        self,
        results: Iterable[BenchmarkResult],
        *,
        chunk_size: int = 500,
        timeout_seconds: float | None = None,
    ) -> SubmitSummary:
        """Streams results (SubmitBenchmarks) in chunks; returns once the accepted ones are
        durable. Invalid results do not fail the call: they come back as rejections."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size}: must be >= 1")
        conversion_error: list[BaseException] = []

        def chunks() -> Iterator[pb.SubmitBenchmarksRequest]:
            chunk: list[pb.BenchmarkResult] = []
            try:
                for result in results:
                    chunk.append(_result_to_pb(result))
                    if len(chunk) == chunk_size:
                        yield pb.SubmitBenchmarksRequest(results=chunk)
                        chunk = []
            except Exception as e:  # grpc would only cancel the call; re-raised below.
                conversion_error.append(e)
                raise
            if chunk:
                yield pb.SubmitBenchmarksRequest(results=chunk)

        try:
            r = self._call("SubmitBenchmarks", self._model.SubmitBenchmarks, chunks(),
                           timeout_seconds)
        except PerfcastError:
            if conversion_error:
                raise conversion_error[0] from None
            raise
        return SubmitSummary(
            accepted_count=r.accepted_count,
            duplicate_count=r.duplicate_count,
            rejected_count=r.rejected_count,
            rejections=tuple(
                Rejection(index=j.index, source_id=j.source_id, field=j.field, reason=j.reason)
                for j in r.rejections),
            quarantined_count=r.quarantined_count,
        )

    def submit_one(self, result: BenchmarkResult, *, timeout_seconds: float | None = None) -> bool:
        """Stores one result (SubmitBenchmark); returns True when it was a duplicate. An invalid
        result raises PerfcastError with code INVALID_ARGUMENT."""
        request = pb.SubmitBenchmarkRequest(result=_result_to_pb(result))
        return self._call("SubmitBenchmark", self._model.SubmitBenchmark, request,
                          timeout_seconds).duplicate

    def refit(
        self,
        *,
        wait: bool = False,
        reason: str = "",
        timeout_seconds: float | None = None,
    ) -> RefitResult:
        """Starts a retrain (or joins the queued one). With wait, returns once it finished, with
        the version it produced; the deadline defaults to refit_timeout_seconds."""
        if timeout_seconds is None and wait:
            timeout_seconds = self._refit_timeout
        r = self._call("Refit", self._model.Refit, pb.RefitRequest(wait=wait, reason=reason),
                       timeout_seconds)
        return RefitResult(refit_id=r.refit_id, model_version=r.model_version,
                           training_duration_seconds=_seconds(r.training_duration))

    def status(self, *, timeout_seconds: float | None = None) -> ModelStatus:
        """Every model version the server knows (newest first), the latest refit, store size."""
        r = self._call("GetModelStatus", self._model.GetModelStatus,
                       pb.GetModelStatusRequest(), timeout_seconds)
        last = None
        if r.HasField("last_refit"):
            lr = r.last_refit
            last = LastRefit(
                refit_id=lr.refit_id,
                outcome=_enum_name(pb.RefitStatus.Outcome, lr.outcome, "OUTCOME_"),
                trigger=lr.trigger,
                model_version=lr.model_version,
                duration_seconds=_seconds(lr.duration),
                error_message=lr.error_message,
            )
        return ModelStatus(
            versions=tuple(
                ModelVersion(
                    version=v.version,
                    state=_enum_name(pb.ModelVersionStatus.State, v.state, "STATE_"),
                    error_message=v.error_message,
                    train_time=(v.train_time.ToDatetime(tzinfo=datetime.timezone.utc)
                                if v.HasField("train_time") else None),
                    training_duration_seconds=_seconds(v.training_duration),
                    training_point_count=v.training_point_count,
                    configuration_count=v.configuration_count,
                    curve_count=v.curve_count,
                ) for v in r.model_version_statuses),
            last_refit=last,
            stored_result_count=r.stored_result_count,
            results_since_refit_count=r.results_since_refit_count,
        )

    # --- Quarantine (role admin) -------------------------------------------------------------

    def list_quarantined(self, *, page_size: int = 0,
                         timeout_seconds: float | None = None) -> list[QuarantinedResult]:
        """Every result held in quarantine, oldest first (follows all pages)."""
        results: list[QuarantinedResult] = []
        token = ""
        while True:
            r = self._call("ListQuarantined", self._model.ListQuarantined,
                           pb.ListQuarantinedRequest(page_size=page_size, page_token=token),
                           timeout_seconds)
            results.extend(
                QuarantinedResult(
                    id=q.id,
                    result=_result_from_pb(q.result),
                    reason=q.reason,
                    submitted_by=q.submitted_by,
                    submit_time=(q.submit_time.ToDatetime(tzinfo=datetime.timezone.utc)
                                 if q.HasField("submit_time") else None),
                ) for q in r.results)
            token = r.next_page_token
            if not token:
                return results

    def release_quarantined(self, ids: Iterable[int], *,
                            timeout_seconds: float | None = None) -> QuarantineChange:
        """Makes these quarantined results trainable; they count as new for the next refit."""
        r = self._call("ReleaseQuarantined", self._model.ReleaseQuarantined,
                       pb.ReleaseQuarantinedRequest(ids=list(ids)), timeout_seconds)
        return QuarantineChange(changed_count=r.released_count,
                                not_found_ids=tuple(r.not_found_ids))

    def drop_quarantined(self, ids: Iterable[int], *,
                         timeout_seconds: float | None = None) -> QuarantineChange:
        """Deletes these quarantined results."""
        r = self._call("DropQuarantined", self._model.DropQuarantined,
                       pb.DropQuarantinedRequest(ids=list(ids)), timeout_seconds)
        return QuarantineChange(changed_count=r.dropped_count,
                                not_found_ids=tuple(r.not_found_ids))

    def configurations(self, *, page_size: int = 0,
                       timeout_seconds: float | None = None) -> list[Configuration]:
        """Every configuration the serving model was trained on (follows all pages; each page
        has its own deadline)."""
        configurations: list[Configuration] = []
        token = ""
        while True:
            r = self._call("ListConfigurations", self._model.ListConfigurations,
                           pb.ListConfigurationsRequest(page_size=page_size, page_token=token),
                           timeout_seconds)
            configurations.extend(_configuration_from_pb(c) for c in r.configurations)
            token = r.next_page_token
            if not token:
                return configurations

    # --- Health ----------------------------------------------------------------------------

    def health(self, service: str = "", *, timeout_seconds: float | None = None) -> str:
        """grpc.health.v1 Check: "SERVING", "NOT_SERVING" or "UNKNOWN". service "" = the server;
        PREDICTION_SERVICE is SERVING iff a model is loaded. Unknown service: NOT_FOUND."""
        r = self._call("Health.Check", self._health.Check,
                       health_pb.HealthCheckRequest(service=service), timeout_seconds)
        return _enum_name(health_pb.HealthCheckResponse.ServingStatus, r.status, "")

    def wait_until_serving(self, service: str = PREDICTION_SERVICE, *,
                           timeout_seconds: float = 30.0) -> None:
        """Blocks until `service` reports SERVING, also while the server is not listening yet
        (health Watch with wait_for_ready). Raises PerfcastError(DEADLINE_EXCEEDED) after
        timeout_seconds."""
        deadline = time.monotonic() + timeout_seconds
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PerfcastError("Health.Watch", grpc.StatusCode.DEADLINE_EXCEEDED,
                                    f"{service!r} not SERVING after {timeout_seconds} s "
                                    f"(last: {last})")
            try:
                stream = self._health.Watch(health_pb.HealthCheckRequest(service=service),
                                            timeout=remaining, wait_for_ready=True)
                for update in stream:
                    last = _enum_name(health_pb.HealthCheckResponse.ServingStatus,
                                      update.status, "")
                    if update.status == health_pb.HealthCheckResponse.SERVING:
                        stream.cancel()
                        return
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                last = f"{e.code().name}: {e.details()}"
            # The stream ended or broke (e.g. the server restarted): back off briefly, re-watch.
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    # --- Plumbing --------------------------------------------------------------------------

    def _call(self, method: str, rpc, request, timeout_seconds: float | None):
        timeout = self._timeout if timeout_seconds is None else timeout_seconds
        try:
            return rpc(request, timeout=timeout)
        except grpc.RpcError as e:
            raise PerfcastError(method, e.code(), e.details() or "") from e


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class _CallDetails(collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready",
                         "compression")), grpc.ClientCallDetails):
    pass


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call of the channel it intercepts."""

    def __init__(self, token: str):
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(d.metadata or []) + [self._header]
        return _CallDetails(d.method, d.timeout, metadata, d.credentials,
                            getattr(d, "wait_for_ready", None), getattr(d, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


def _model_spec(version: int | None) -> pb.ModelSpec:
    return pb.ModelSpec() if version is None else pb.ModelSpec(version=version)


_BATCH_SEMANTICS = ("static", "concurrency", "max_throughput")


def _batch_semantics_to_pb(name: str) -> int:
    if name not in _BATCH_SEMANTICS:
        raise ValueError(f"batch_semantics={name!r}: must be one of {', '.join(_BATCH_SEMANTICS)}")
    return pb.BatchSemantics.Value("BATCH_SEMANTICS_" + name.upper())


def _configuration_to_pb(c: Configuration) -> pb.Configuration:
    message = pb.Configuration(hardware=c.hardware, gpu_count=c.gpu_count, framework=c.framework,
                               model=c.model, precision=c.precision,
                               batch_semantics=_batch_semantics_to_pb(c.batch_semantics))
    if c.campaign is not None:
        message.campaign = c.campaign
    return message


def _configuration_from_pb(c: pb.Configuration) -> Configuration:
    semantics = _enum_name(pb.BatchSemantics, c.batch_semantics, "BATCH_SEMANTICS_").lower()
    return Configuration(hardware=c.hardware, gpu_count=c.gpu_count, framework=c.framework,
                         model=c.model, precision=c.precision,
                         campaign=c.campaign if c.HasField("campaign") else None,
                         batch_semantics=semantics if semantics in _BATCH_SEMANTICS else "static")


def _result_from_pb(r: pb.BenchmarkResult) -> BenchmarkResult:
    return BenchmarkResult(
        source_id=r.source_id,
        configuration=_configuration_from_pb(r.configuration),
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        batch_size=r.batch_size,
        throughput_tokens_per_second=r.throughput_tokens_per_second,
        batch_latency_seconds=(r.batch_latency_seconds
                               if r.HasField("batch_latency_seconds") else None),
        time_to_first_token_seconds=(r.time_to_first_token_seconds
                                     if r.HasField("time_to_first_token_seconds") else None),
        inter_token_latency_seconds=(r.inter_token_latency_seconds
                                     if r.HasField("inter_token_latency_seconds") else None),
        p99_time_to_first_token_seconds=(
            r.p99_time_to_first_token_seconds
            if r.HasField("p99_time_to_first_token_seconds") else None),
        p99_time_per_output_token_seconds=(
            r.p99_time_per_output_token_seconds
            if r.HasField("p99_time_per_output_token_seconds") else None),
    )


def _query_to_pb(q: Query) -> pb.Query:
    message = pb.Query(configuration=_configuration_to_pb(q.configuration),
                       input_tokens=q.input_tokens, output_tokens=q.output_tokens,
                       batch_sizes=list(q.batch_sizes))
    if q.confidence_level is not None:
        message.confidence_level = q.confidence_level
    return message


def _curve_point_from_pb(c: pb.CurvePoint) -> CurvePoint:
    statistic = LatencyStatistic.from_wire(c.latency_statistic)
    latency = statistic != LatencyStatistic.UNSPECIFIED
    # Each percentile is 0 on the wire where not answered; a real one is > 0.
    p99_ttft = c.p99_ttft_seconds != 0
    p99_tpot = c.p99_tpot_seconds != 0
    return CurvePoint(
        batch_size=c.batch_size,
        throughput_tokens_per_second=c.throughput_tokens_per_second,
        throughput_lower_tokens_per_second=c.throughput_lower_tokens_per_second,
        throughput_upper_tokens_per_second=c.throughput_upper_tokens_per_second,
        batch_latency_seconds=c.batch_latency_seconds,
        prediction_case=PredictionCase.from_wire(c.prediction_case),
        memory_fit=MemoryFit.from_wire(c.memory_fit),
        memory_fit_reason=c.memory_fit_reason,
        memory_required_gib_per_gpu=c.memory_required_gib_per_gpu,
        memory_available_gib_per_gpu=c.memory_available_gib_per_gpu,
        ttft_seconds=c.ttft_seconds if latency else None,
        ttft_lower_seconds=c.ttft_lower_seconds if latency else None,
        ttft_upper_seconds=c.ttft_upper_seconds if latency else None,
        itl_seconds=c.itl_seconds if latency else None,
        itl_lower_seconds=c.itl_lower_seconds if latency else None,
        itl_upper_seconds=c.itl_upper_seconds if latency else None,
        latency_statistic=statistic,
        p99_ttft_seconds=c.p99_ttft_seconds if p99_ttft else None,
        p99_ttft_lower_seconds=c.p99_ttft_lower_seconds if p99_ttft else None,
        p99_ttft_upper_seconds=c.p99_ttft_upper_seconds if p99_ttft else None,
        p99_tpot_seconds=c.p99_tpot_seconds if p99_tpot else None,
        p99_tpot_lower_seconds=c.p99_tpot_lower_seconds if p99_tpot else None,
        p99_tpot_upper_seconds=c.p99_tpot_upper_seconds if p99_tpot else None,
    )


def _prediction_from_pb(p: pb.Prediction, model_version: int) -> Prediction:
    return Prediction(
        points=tuple(_curve_point_from_pb(c) for c in p.points),
        prediction_case=PredictionCase.from_wire(p.prediction_case),
        confidence_level=p.confidence_level,
        model_version=model_version,
        largest_fitting_batch_size=p.largest_fitting_batch_size,
    )


def _result_to_pb(r: BenchmarkResult) -> pb.BenchmarkResult:
    message = pb.BenchmarkResult(
        source_id=r.source_id,
        configuration=_configuration_to_pb(r.configuration),
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        batch_size=r.batch_size,
        throughput_tokens_per_second=r.throughput_tokens_per_second,
    )
    # Optional doubles go over as given, NaN included: the server validates and names the field.
    if r.batch_latency_seconds is not None:
        message.batch_latency_seconds = r.batch_latency_seconds
    if r.time_to_first_token_seconds is not None:
        message.time_to_first_token_seconds = r.time_to_first_token_seconds
    if r.inter_token_latency_seconds is not None:
        message.inter_token_latency_seconds = r.inter_token_latency_seconds
    if r.p99_time_to_first_token_seconds is not None:
        message.p99_time_to_first_token_seconds = r.p99_time_to_first_token_seconds
    if r.p99_time_per_output_token_seconds is not None:
        message.p99_time_per_output_token_seconds = r.p99_time_per_output_token_seconds
    if r.measure_time is not None:
        t = r.measure_time
        if t.tzinfo is not None:
            t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        message.measure_time.FromDatetime(t)  # naive = UTC
    return message


def _operating_point_from_pb(p: pb.OperatingPoint) -> OperatingPoint:
    return OperatingPoint(
        batch_size=p.batch_size,
        replicas=p.replicas,
        tokens_per_second_per_replica=p.tokens_per_second_per_replica,
        batch_latency_seconds=p.batch_latency_seconds,
        cost_per_hour=p.cost_per_hour,
        ttft_seconds=p.ttft_seconds if p.HasField("ttft_seconds") else None,
        itl_seconds=p.itl_seconds if p.HasField("itl_seconds") else None,
    )


def _plan_option_from_pb(o: pb.PlanOption) -> PlanOption:
    return PlanOption(
        configuration=_configuration_from_pb(o.configuration),
        planned=_operating_point_from_pb(o.planned),
        point_estimate=(_operating_point_from_pb(o.point_estimate)
                        if o.HasField("point_estimate") else None),
        predicted_tokens_per_second_per_replica=o.predicted_tokens_per_second_per_replica,
        usd_per_gpu_hour=o.usd_per_gpu_hour if o.HasField("usd_per_gpu_hour") else None,
        total_gpus=o.total_gpus,
        cost_per_million_output_tokens=o.cost_per_million_output_tokens,
        memory_fit=MemoryFit.from_wire(o.memory_fit),
        memory_fit_reason=o.memory_fit_reason,
        prediction_case=PredictionCase.from_wire(o.prediction_case),
        expected_relative_error=o.expected_relative_error,
    )


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos / 1e9


def _enum_name(enum_type, value: int, prefix: str) -> str:
    try:
        name = enum_type.Name(value)
    except ValueError:
        return f"UNKNOWN_{value}"
    return name[len(prefix):] if name.startswith(prefix) else name


__all__ = ["Client", "PerfcastError", "PREDICTION_SERVICE", "MODEL_SERVICE"]
