#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/perfcast_model.h"
#include "server/observability/status_page_request.h"

namespace perfcast::server {

// Batch sizes the explorer predicts at: 1, 2, 3, 4, 6, 8, 12, ... up to `largest` (a power of
// two, at most kMaxExplorerBatchSize). Fixed, so one page costs a bounded number of predictions.
inline constexpr int kMaxExplorerBatchSize = 4096;
std::vector<int> ExplorerBatchSizes(int largest);

// The key of a configuration's system in the explorer's list (its hardware, GPU count,
// framework, model and precision): "NVIDIA H100 x1 | vllm | meta-llama/Meta-Llama-3-8B | fp16".
std::string SystemKey(const Configuration& configuration);

// The curve explorer's HTML section: a GET form (a list of the systems `model` was trained on,
// or fields for one it was not; campaign, batch axis, shape, level) prefilled from `request`, and
// when there is a request, the predicted curve with its band and the measured points of that
// system and shape as inline SVG, then the predicted points as a table.
//
// InvalidArgument naming the field for a request the model cannot answer (a `system` it does
// not list, a name neither its data nor its catalogue knows); FailedPrecondition for a request
// while no model serves (`model` null). At most ExplorerBatchSizes' predictions and a few scans
// of the model's curves: no I/O.
absl::StatusOr<std::string> RenderCurveExplorer(const PerfcastModel* model,
                                                const std::optional<CurveRequest>& request);

}  // namespace perfcast::server
