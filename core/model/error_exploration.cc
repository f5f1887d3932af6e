#include "core/model/error_exploration.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/curve.h"
#include "core/ml/simulated_annealing.h"
#include "core/model/anchored_prediction.h"

namespace perfcast {

void ExploreByAnnealing(const AnchorIndex& index, const TransferFeatures& features,
                        absl::Span<const TreeEnsemble> curve_models,
                        const FoldBatchRanges& curve_ranges, PhysicalExponents physical_exponents,
                        const CrossFitFolds& folds, const WorkloadSimilarity& similarity,
                        const TrainOptions& options, std::vector<ErrorRecord>& records) {
  if (index.configurations().size() < 4 || options.annealing_moves_per_configuration <= 0) return;
  const absl::Time deadline = absl::Now() + options.annealing_time_limit;
  for (size_t rank = 0; rank < index.configurations().size(); ++rank) {
    const std::vector<int>& curves = index.AnchorsOfRank(static_cast<int>(rank));
    if (curves.size() < 3 || folds.of_configuration[rank] % 2 != 0) continue;
    AnnealingSchedule schedule;
    schedule.max_iterations = options.annealing_moves_per_configuration;
    schedule.time_limit = std::max(deadline - absl::Now(), absl::ZeroDuration());
    schedule.seed = options.seed * 1000003 + rank;
    // What completes a target's observed siblings depends only on how many are observed
    // (NewShapeCompletion): looked up per target and count the first time a state needs it.
    std::vector<std::array<std::optional<std::vector<Anchor>>, kSiblingsForNewShape>> completions(
        curves.size());
    std::vector<bool> initial(curves.size(), true);
    initial[schedule.seed % curves.size()] = false;
    Anneal(std::move(initial), schedule, [&](const std::vector<bool>& observed) {
      std::vector<int> unobserved, unobserved_positions;
      for (size_t c = 0; c < curves.size(); ++c) {
        if (!observed[c]) {
          unobserved.push_back(curves[c]);
          unobserved_positions.push_back(static_cast<int>(c));
        }
      }
      double error_sum = 0;
      int error_count = 0;
      for (size_t u = 0; u < unobserved.size(); ++u) {
        const int target = unobserved[u];
        const Curve& curve = index.anchors()[target].curve();
        std::vector<std::pair<double, int>> siblings;
        for (size_t c = 0; c < curves.size(); ++c) {
          if (!observed[c]) continue;
          siblings.push_back(
              {ShapeDistance(curve.shape, index.anchors()[curves[c]].curve().shape), curves[c]});
        }
        std::sort(siblings.begin(), siblings.end());
        std::vector<Anchor> anchors;
        for (size_t s = 0; s < siblings.size() && s < kSiblingsForNewShape; ++s) {
          anchors.push_back({&index.anchors()[siblings[s].second], false});
        }
        // As Predict would with this few curves of the configuration observed.
        if (anchors.size() < static_cast<size_t>(kSiblingsForNewShape)) {
          std::optional<std::vector<Anchor>>& completion =
              completions[unobserved_positions[u]][anchors.size()];
          if (!completion.has_value()) {
            completion =
                AnchorsOf(index, NewShapeCompletion(index, curve.configuration, curve.shape,
                                                    static_cast<int>(anchors.size())));
          }
          anchors.insert(anchors.end(), completion->begin(), completion->end());
        }
        const std::optional<ShapeTransfer> transfer =
            ShapeTransferOf(index, curve.configuration, curve.shape, anchors);
        const Corrector corrector{curve_models[folds.of_curve[target]], physical_exponents,
                                  AnchorCombination::kMedian,
                                  curve_ranges.LargestTrainedBatchFor(
                                      folds.of_curve[target], curve.configuration.batch_semantics)};
        for (const CurvePoint& point : curve.points) {
          AnchoredPrediction p = PredictFromAnchors(features, corrector, curve.configuration,
                                                    curve.shape, anchors, point.batch_size);
          ApplyShapeTransfer(transfer, point.batch_size, p);
          const double error = std::abs(std::log(point.throughput_tokens_per_s) - p.log_throughput);
          if (!std::isfinite(error)) continue;
          p.features.prediction_case = PredictionCase::kExtrapolatedShape;
          p.features.neighbourhood = similarity.Around(curve.configuration, curve.shape,
                                                       point.batch_size, {.curves = unobserved});
          records.push_back({p.features, error});
          error_sum += error;
          ++error_count;
        }
      }
      return error_count == 0 ? 0.0 : -error_sum / error_count;
    });
  }
}

}  // namespace perfcast
