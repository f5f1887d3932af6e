#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/eval/evaluation.h"
#include "core/eval/evaluation_method.h"
#include "core/eval/evaluation_protocol.h"

namespace perfcast {

// The pictures of `perfcast eval --report DIR`, per protocol run (each share of shots of
// new-campaign is a run of its own):
// - `ape_<run>.svg`: the distribution of each method's absolute percentage error on the
//   throughput of the held-out points, as a cumulative share (a CDF), which compares methods at
//   every error at once where a histogram would need bins chosen per method;
// - `reliability_<run>.svg`, where the figures carry a reliability table (`--levels`): each
//   method's observed coverage against the nominal level, with the ideal diagonal.
// <run> is the protocol's name, with "_shots-<share>" for new-campaign.
//
// Thread safety: none; AddPoint is called from the thread that runs Evaluate (on_point).
class EvaluationReport {
 public:
  // Creates `directory` (and its parents) if needed; Unavailable naming it when that fails.
  static absl::StatusOr<EvaluationReport> Create(const std::string& directory);

  // One held-out point's prediction by one method (EvaluationOptions::on_point).
  void AddPoint(absl::string_view method, const HeldOutPoint& point,
                const MethodPrediction& prediction);

  // Writes the charts of the run just evaluated (`figures` as Evaluate returned them) from the
  // points added since the last call, and forgets those points. Returns the paths written.
  absl::StatusOr<std::vector<std::string>> WriteRun(absl::string_view protocol,
                                                    std::optional<double> shots,
                                                    absl::Span<const EvaluationFigures> figures);

 private:
  explicit EvaluationReport(std::string directory) : directory_(std::move(directory)) {}

  std::string directory_;
  // Per method, in the order methods first appear: absolute percentage errors of the run.
  std::vector<std::string> methods_;
  std::map<std::string, std::vector<double>, std::less<>> errors_percent_;
};

}  // namespace perfcast
