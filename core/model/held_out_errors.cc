#include "core/model/held_out_errors.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/catalogue/catalogue.h"
#include "core/data/curve.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/tree_ensemble.h"
#include "core/model/anchored_prediction.h"
#include "core/model/error_exploration.h"
#include "core/util/byte_coding.h"

namespace perfcast {

std::optional<FirstResultCase> FirstResultCaseOf(const AnchorIndex& index, int held_out,
                                                 uint64_t seed) {
  const Curve& curve = index.anchors()[held_out].curve();
  const std::vector<AnchorChoice> siblings =
      index.SameConfiguration(curve.configuration, curve.shape, std::numeric_limits<int>::max());
  if (siblings.size() < 2) return std::nullopt;
  const std::vector<AnchorChoice> others = index.OtherConfigurations(
      curve.configuration, curve.shape, kSiblingsForNewShape - 1, ConfigurationField::kCampaign);
  if (others.size() < kSiblingsForNewShape - 1) return std::nullopt;
  // Seeded by the curve's configuration and shape, not one stream for all nor the curve's place
  // in the index, so that curves of other configurations that a refit adds leave its draw alone
  // (curves added to its own configuration change what it draws from); the modulo, unlike a
  // distribution, draws alike with every standard library.
  std::mt19937_64 draw(
      seed ^ Fnv1a64(absl::StrCat(curve.configuration.ToString(), "|", curve.shape.input_tokens,
                                  "x", curve.shape.output_tokens)));
  const size_t drawn = draw() % siblings.size();
  std::vector<AnchorChoice> chosen = {siblings[drawn]};
  chosen.insert(chosen.end(), others.begin(), others.end());
  FirstResultCase out;
  out.anchors = AnchorsOf(index, chosen);
  out.transfer = ShapeTransferOf(index, curve.configuration, curve.shape, out.anchors,
                                 ConfigurationField::kCampaign);
  out.unseen_curves.push_back(held_out);
  for (size_t s = 0; s < siblings.size(); ++s) {
    if (s != drawn) out.unseen_curves.push_back(siblings[s].anchor_index);
  }
  std::sort(out.unseen_curves.begin(), out.unseen_curves.end());
  return out;
}

namespace {

// How a held-out prediction is made and recorded, beyond its case, model, anchors and
// neighbourhood (ErrorRecord's flags of the same names).
struct HeldOutAs {
  UnseenField unseen_field = UnseenField::kNone;
  const Configuration* queried = nullptr;  // the configuration asked for; the curve's when null
  bool other_campaign = false;
  bool kept = true;  // false: only the signed error is wanted, no record
  const std::optional<ShapeTransfer>* transfer = nullptr;
  bool first_result = false;
  bool one_own_curve = false;
};

}  // namespace

std::array<std::vector<ErrorRecord>, 2> CollectHeldOutErrors(
    const AnchorIndex& index, const WorkloadScales& scales, const FoldModels& models,
    const CrossFitFolds& folds, const TrainOptions& options,
    std::vector<CampaignResidual>& campaign_residuals) {
  const TransferFeatures& features = models.features;
  const PhysicalExponents physical_exponents = models.physical_exponents;
  const FoldsOfCurves of_curve = FoldsOfEachCurve(index, folds);
  const std::vector<int>& configuration_fold_of_curve = of_curve.by_configuration;
  const std::vector<int>& hardware_fold_of_curve = of_curve.by_hardware;
  const std::vector<TreeEnsemble>& curve_models = models.by_curve;
  const std::vector<TreeEnsemble>& configuration_models = models.by_configuration;
  const FoldBatchRanges& curve_ranges = models.by_curve_ranges;
  const FoldBatchRanges& configuration_ranges = models.by_configuration_ranges;
  const FoldBatchRanges& hardware_ranges = models.by_hardware_ranges;

  const WorkloadSimilarity similarity(index.anchors(), scales);
  // For each named field and the campaign, the curves carrying each value of it (sorted:
  // Unobserved wants them so).
  absl::flat_hash_map<std::pair<ConfigurationField, std::string>, std::vector<int>> curves_named;
  for (size_t i = 0; i < index.anchors().size(); ++i) {
    const Configuration& configuration = index.anchors()[i].curve().configuration;
    for (ConfigurationField field : kNamedConfigurationFields) {
      curves_named[{field, NameOf(configuration, field)}].push_back(static_cast<int>(i));
    }
    curves_named[{ConfigurationField::kCampaign, configuration.campaign}].push_back(
        static_cast<int>(i));
  }
  // A GPU held out as new is new under every name the data spell it with (the hardware folds'
  // types): its spellings, and the curves on any of them (sorted).
  const Catalogue* catalogue = options.catalogue.get();
  std::vector<std::string> type_of_curve;
  absl::flat_hash_map<std::string, std::vector<std::string>> spellings_of_type;
  absl::flat_hash_map<std::string, std::vector<int>> curves_of_type;
  for (size_t i = 0; i < index.anchors().size(); ++i) {
    const std::string& hardware = index.anchors()[i].curve().configuration.hardware;
    type_of_curve.push_back(HardwareTypeOf(hardware, catalogue));
    std::vector<std::string>& spellings = spellings_of_type[type_of_curve.back()];
    if (!absl::c_linear_search(spellings, hardware)) spellings.push_back(hardware);
    curves_of_type[type_of_curve.back()].push_back(static_cast<int>(i));
  }
  std::array<std::vector<ErrorRecord>, 2> records;
  for (size_t i = 0; i < index.anchors().size(); ++i) {
    const Curve& curve = index.anchors()[i].curve();
    const int configuration_fold = configuration_fold_of_curve[i];
    // Halves by configuration keep a configuration's correlated errors on one side; with too few
    // configurations for that, by curve.
    const int half =
        (index.configurations().size() >= 4 ? configuration_fold : folds.of_curve[i]) % 2;
    std::vector<ErrorRecord>& out = records[half];
    // Records the error of one prediction (to `out` unless `as.kept` is false); returns the signed
    // log error, NaN when there was nothing to predict from.
    auto add = [&](PredictionCase prediction_case, const Corrector& corrector,
                   absl::Span<const Anchor> anchors, const CurvePoint& point,
                   const Unobserved& unobserved, const HeldOutAs& as = {}) {
      if (anchors.empty()) return std::nan("");
      AnchoredPrediction p = PredictFromAnchors(
          features, corrector, as.queried != nullptr ? *as.queried : curve.configuration,
          curve.shape, anchors, point.batch_size);
      if (as.transfer != nullptr) ApplyShapeTransfer(*as.transfer, point.batch_size, p);
      const double signed_error = std::log(point.throughput_tokens_per_s) - p.log_throughput;
      if (!std::isfinite(signed_error)) return std::nan("");
      if (!as.kept) return signed_error;
      p.features.prediction_case = prediction_case;
      p.features.neighbourhood =
          similarity.Around(curve.configuration, curve.shape, point.batch_size, unobserved);
      out.push_back({p.features, std::abs(signed_error), as.unseen_field, as.other_campaign,
                     static_cast<int>(i), as.first_result, as.one_own_curve});
      return signed_error;
    };
    // Each fold model read as far along the batch as it was trained (FoldBatchRanges).
    const BatchSemantics axis = curve.configuration.batch_semantics;
    const Corrector by_curve{curve_models[folds.of_curve[i]], physical_exponents,
                             AnchorCombination::kMedian,
                             curve_ranges.LargestTrainedBatchFor(folds.of_curve[i], axis)};
    const Corrector by_configuration{
        configuration_models[configuration_fold], physical_exponents, AnchorCombination::kMedian,
        configuration_ranges.LargestTrainedBatchFor(configuration_fold, axis)};
    const Unobserved without_curve{.curve = static_cast<int>(i)};
    const std::vector<Anchor> new_shape_anchors =
        AnchorsOf(index, NewShapeAnchors(index, curve.configuration, curve.shape));
    const std::optional<ShapeTransfer> transfer =
        ShapeTransferOf(index, curve.configuration, curve.shape, new_shape_anchors);
    const bool one_own_curve = OwnCurveCount(new_shape_anchors, curve.configuration) == 1;
    for (const CurvePoint& point : curve.points) {
      add(PredictionCase::kExtrapolatedShape, by_curve, new_shape_anchors, point, without_curve,
          {.transfer = &transfer, .one_own_curve = one_own_curve});
    }
    // A new campaign's configurations have a curve or two: its new shapes need calibrating on
    // cases like theirs, not only on well-measured configurations'. Calibration half only: the
    // error predictor keeps learning the cases it always did.
    if (half == 1) {
      if (const std::optional<FirstResultCase> first =
              FirstResultCaseOf(index, static_cast<int>(i), options.seed)) {
        for (const CurvePoint& point : curve.points) {
          add(PredictionCase::kExtrapolatedShape, by_curve, first->anchors, point,
              {.curve = static_cast<int>(i), .curves = first->unseen_curves},
              {.transfer = &first->transfer, .first_result = true, .one_own_curve = true});
        }
      }
    }
    const size_t n = curve.points.size();
    if (const size_t keep = LargerBatchSplit(n); keep < n) {
      // Predict's anchors past a curve, the curve itself cut to its kept points.
      const AnchorCurve truncated = Truncated(index.anchors()[i], keep);
      std::vector<Anchor> anchors =
          AnchorsOf(index, ExtrapolatedBatchAnchors(index, static_cast<int>(i)));
      anchors.front().curve = &truncated;
      for (size_t p = keep; p < n; ++p) {
        add(PredictionCase::kExtrapolatedBatch, by_curve, anchors, curve.points[p],
            {.curve = static_cast<int>(i), .kept_points = static_cast<int>(keep)});
      }
    }
    const std::vector<Anchor> others = AnchorsOf(
        index, index.OtherConfigurations(curve.configuration, curve.shape, kOtherConfigurations));
    for (const CurvePoint& point : curve.points) {
      add(PredictionCase::kNewConfiguration, by_configuration, others, point,
          {.configuration = true});
    }
    // A campaign the data lack: its configuration's other campaigns stand in for it, as for a
    // query about the population or a new campaign. The curve's own campaign is taken out of the
    // query too, as it would be unknown.
    {
      const std::vector<Anchor> elsewhere = AnchorsOf(
          index, index.OtherConfigurations(curve.configuration, curve.shape, kOtherConfigurations,
                                           ConfigurationField::kCampaign));
      Configuration as_queried = curve.configuration;
      as_queried.campaign.clear();
      double sum = 0;
      int count = 0;
      for (const CurvePoint& point : curve.points) {
        const double error = add(
            PredictionCase::kNewConfiguration, by_configuration, elsewhere, point,
            {.configuration = true,
             .curves =
                 curves_named.at({ConfigurationField::kCampaign, curve.configuration.campaign})},
            {.queried = &as_queried, .other_campaign = true, .kept = half == 1});
        if (std::isfinite(error)) {
          sum += error;
          ++count;
        }
      }
      if (count > 0) {
        CampaignResidual residual{curve.configuration.campaign, sum / count, {}};
        for (size_t a = 0; a < std::min(elsewhere.size(), kMaxAnchors); ++a) {
          residual.anchor_campaigns.push_back(elsewhere[a].curve->curve().configuration.campaign);
        }
        campaign_residuals.push_back(std::move(residual));
      }
    }
    // A configuration with a name the data lacks: predicted only from configurations that differ
    // in that name, without the neighbourhood of any curve that carries it. A configuration-fold
    // model has still trained on rows of other configurations with the name, so these errors are
    // if anything smaller than a truly unseen name's (a hardware-fold model has not, below); a
    // framework name, which carries no physical figures, is hidden from the features as well.
    // Calibration half only (ErrorRecord).
    if (half != 1) continue;
    for (ConfigurationField field : kNamedConfigurationFields) {
      const bool hardware = field == ConfigurationField::kHardware;
      const std::vector<Anchor> differing = AnchorsOf(
          index,
          index.OtherConfigurations(
              curve.configuration, curve.shape, kOtherConfigurations, field,
              hardware ? absl::Span<const std::string>(spellings_of_type.at(type_of_curve[i]))
                       : absl::Span<const std::string>()));
      const std::vector<int>& named =
          hardware ? curves_of_type.at(type_of_curve[i])
                   : curves_named.at({field, NameOf(curve.configuration, field)});
      Configuration as_queried = curve.configuration;
      if (field == ConfigurationField::kFramework) as_queried.framework.clear();
      // Without hardware folds, a hardware name's errors come from models that saw other
      // configurations of that hardware, and understate a new GPU's: they join the other names'
      // pool only, and a GPU the data lack reads that pool (kUnseenHardware has no scores).
      const bool type_unseen =
          hardware && !models.by_hardware.empty() && !hardware_fold_of_curve.empty();
      const Corrector by_hardware =
          type_unseen
              ? Corrector{models.by_hardware[hardware_fold_of_curve[i]], physical_exponents,
                          AnchorCombination::kMedian,
                          hardware_ranges.LargestTrainedBatchFor(hardware_fold_of_curve[i], axis)}
              : by_configuration;
      for (const CurvePoint& point : curve.points) {
        add(PredictionCase::kNewConfiguration, by_hardware, differing, point,
            {.configuration = true, .curves = named},
            {.unseen_field =
                 type_unseen ? UnseenField::kHardware : UnseenField::kFrameworkModelOrPrecision,
             .queried = &as_queried});
      }
    }
  }
  ExploreByAnnealing(index, features, curve_models, curve_ranges, physical_exponents, folds,
                     similarity, options, records[0]);
  return records;
}

}  // namespace perfcast
