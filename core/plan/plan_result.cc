#include "core/plan/plan_result.h"

namespace perfcast {

absl::string_view CandidateRejectionName(CandidateRejection rejection) {
  switch (rejection) {
    case CandidateRejection::kDoesNotFit:
      return "does_not_fit";
    case CandidateRejection::kMissesTtft:
      return "misses_ttft";
    case CandidateRejection::kMissesItl:
      return "misses_itl";
    case CandidateRejection::kMissesBatchLatency:
      return "misses_batch_latency";
    case CandidateRejection::kNoLatencyPrediction:
      return "no_latency_prediction";
    case CandidateRejection::kNoPrice:
      return "no_price";
    case CandidateRejection::kUnknownConfiguration:
      return "unknown_configuration";
    case CandidateRejection::kTooManyReplicas:
      return "too_many_replicas";
  }
  return "unspecified";
}

}  // namespace perfcast
