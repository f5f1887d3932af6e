package perfcast

import (
	pb "perfcast/gen/perfcastv1"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// The API's messages under their proto names, so that callers need not import the generated
// package.
type (
	ModelSpec                  = pb.ModelSpec
	Configuration              = pb.Configuration
	Query                      = pb.Query
	CurvePoint                 = pb.CurvePoint
	Prediction                 = pb.Prediction
	PredictRequest             = pb.PredictRequest
	PredictResponse            = pb.PredictResponse
	ObservedCurve              = pb.ObservedCurve
	UncertaintyRequest         = pb.UncertaintyRequest
	UncertaintyResponse        = pb.UncertaintyResponse
	CatalogueEntries           = pb.CatalogueEntries
	BenchmarkResult            = pb.BenchmarkResult
	Rejection                  = pb.Rejection
	SubmitBenchmarkRequest     = pb.SubmitBenchmarkRequest
	SubmitBenchmarkResponse    = pb.SubmitBenchmarkResponse
	SubmitBenchmarksResponse   = pb.SubmitBenchmarksResponse
	RefitRequest               = pb.RefitRequest
	RefitResponse              = pb.RefitResponse
	ModelVersionStatus         = pb.ModelVersionStatus
	RefitStatus                = pb.RefitStatus
	GetModelStatusRequest      = pb.GetModelStatusRequest
	GetModelStatusResponse     = pb.GetModelStatusResponse
	ListModelsRequest          = pb.ListModelsRequest
	ListModelsResponse         = pb.ListModelsResponse
	ListConfigurationsRequest  = pb.ListConfigurationsRequest
	ListConfigurationsResponse = pb.ListConfigurationsResponse
	PlanRequest                = pb.PlanRequest
	PlanResponse               = pb.PlanResponse
	PlanOption                 = pb.PlanOption
	OperatingPoint             = pb.OperatingPoint
	RejectedCandidate          = pb.RejectedCandidate
	RequestShape               = pb.RequestShape
	LatencyObjectives          = pb.LatencyObjectives
	HardwarePrice              = pb.HardwarePrice
	CandidateFilter            = pb.CandidateFilter

	// PlanRequest's demand (a oneof): set Demand to one of these.
	PlanRequest_RequestsPerSecond     = pb.PlanRequest_RequestsPerSecond
	PlanRequest_OutputTokensPerSecond = pb.PlanRequest_OutputTokensPerSecond

	BatchSemantics     = pb.BatchSemantics
	PredictionCase     = pb.PredictionCase
	MemoryFit          = pb.MemoryFit
	LatencyStatistic   = pb.LatencyStatistic
	ModelState         = pb.ModelVersionStatus_State
	RefitOutcome       = pb.RefitStatus_Outcome
	PlanRanking        = pb.PlanRanking
	CandidateRejection = pb.CandidateRejection

	HealthStatus = healthpb.HealthCheckResponse_ServingStatus
)

const (
	BatchSemanticsStatic        = pb.BatchSemantics_BATCH_SEMANTICS_STATIC
	BatchSemanticsConcurrency   = pb.BatchSemantics_BATCH_SEMANTICS_CONCURRENCY
	BatchSemanticsMaxThroughput = pb.BatchSemantics_BATCH_SEMANTICS_MAX_THROUGHPUT

	PredictionCaseMeasured          = pb.PredictionCase_PREDICTION_CASE_MEASURED
	PredictionCaseInterpolated      = pb.PredictionCase_PREDICTION_CASE_INTERPOLATED
	PredictionCaseExtrapolatedShape = pb.PredictionCase_PREDICTION_CASE_EXTRAPOLATED_SHAPE
	PredictionCaseExtrapolatedBatch = pb.PredictionCase_PREDICTION_CASE_EXTRAPOLATED_BATCH
	PredictionCaseNewConfiguration  = pb.PredictionCase_PREDICTION_CASE_NEW_CONFIGURATION

	MemoryFitFits       = pb.MemoryFit_MEMORY_FIT_FITS
	MemoryFitDoesNotFit = pb.MemoryFit_MEMORY_FIT_DOES_NOT_FIT
	MemoryFitUnknown    = pb.MemoryFit_MEMORY_FIT_UNKNOWN

	ModelStateAvailable = pb.ModelVersionStatus_STATE_AVAILABLE
	ModelStateFailed    = pb.ModelVersionStatus_STATE_FAILED

	RefitOutcomeSucceeded = pb.RefitStatus_OUTCOME_SUCCEEDED
	RefitOutcomeFailed    = pb.RefitStatus_OUTCOME_FAILED

	PlanRankingCost = pb.PlanRanking_PLAN_RANKING_COST
	PlanRankingGPUs = pb.PlanRanking_PLAN_RANKING_GPUS

	CandidateRejectionDoesNotFit           = pb.CandidateRejection_CANDIDATE_REJECTION_DOES_NOT_FIT
	CandidateRejectionMissesTTFT           = pb.CandidateRejection_CANDIDATE_REJECTION_MISSES_TTFT
	CandidateRejectionMissesITL            = pb.CandidateRejection_CANDIDATE_REJECTION_MISSES_ITL
	CandidateRejectionMissesBatchLatency   = pb.CandidateRejection_CANDIDATE_REJECTION_MISSES_BATCH_LATENCY
	CandidateRejectionNoLatencyPrediction  = pb.CandidateRejection_CANDIDATE_REJECTION_NO_LATENCY_PREDICTION
	CandidateRejectionNoPrice              = pb.CandidateRejection_CANDIDATE_REJECTION_NO_PRICE
	CandidateRejectionUnknownConfiguration = pb.CandidateRejection_CANDIDATE_REJECTION_UNKNOWN_CONFIGURATION
	CandidateRejectionTooManyReplicas      = pb.CandidateRejection_CANDIDATE_REJECTION_TOO_MANY_REPLICAS

	HealthServing    = healthpb.HealthCheckResponse_SERVING
	HealthNotServing = healthpb.HealthCheckResponse_NOT_SERVING
)

// Health check keys (the empty string is the server as a whole).
const (
	// SERVING once a model is loaded.
	PredictionServiceName = "perfcast.v1.PredictionService"
	// SERVING once the store is open.
	ModelServiceName = "perfcast.v1.ModelService"
)
