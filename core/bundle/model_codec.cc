#include "core/bundle/model_codec.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/bundle/bundle_format.h"
#include "core/catalogue/catalogue.h"
#include "core/fit/anchor_curve.h"
#include "core/ml/xgboost_regressor.h"
#include "core/model/anchor_index.h"
#include "core/model/anchor_rooflines.h"
#include "core/model/anchored_prediction.h"
#include "core/model/campaign_calibrations.h"
#include "core/model/error_predictor.h"
#include "core/model/interval_calibration.h"
#include "core/model/latency_model.h"
#include "core/model/model_info.h"
#include "core/model/perfcast_model_internal.h"
#include "core/model/physical_exponents.h"
#include "core/model/workload_features.h"
#include "core/model/workload_similarity.h"
#include "core/util/byte_coding.h"
#include "core/util/status_macros.h"

namespace perfcast {
namespace {

// "; campaign levels name +0.12, ..." (log throughput), or "" when there are none to tell.
std::string CampaignLevelsText(const CampaignLevels& levels) {
  std::string out;
  for (const auto& [campaign, level] : levels.All()) {
    absl::StrAppend(&out, out.empty() ? "; campaign levels " : ", ",
                    campaign.empty() ? "(unnamed)" : campaign, absl::StrFormat(" %+.3f", level));
  }
  return out;
}

// What a person reading the file's first bytes learns; the decoder skips it.
std::string Manifest(const PerfcastModel::State& s) {
  return absl::StrCat(
      "perfcast model bundle; format ", kBundleFormatVersion, "; curves ", s.info.curve_count,
      "; points ", s.info.point_count, "; configurations ", s.info.configuration_count,
      "; trained_at_unix_s ", s.info.trained_at_unix_s, "; physical exponents ",
      s.physical_exponents.same_hardware, " (same hardware) ", s.physical_exponents.same_stack,
      " (same software stack) ", s.physical_exponents.other_stack, " (other stack)",
      s.physical_exponents.shape.has_value()
          ? absl::StrCat(", ", *s.physical_exponents.shape, " (shape)")
          : "",
      s.physical_exponents.efficiency_ceiling.has_value()
          ? absl::StrCat("; efficiency ceiling ", *s.physical_exponents.efficiency_ceiling)
          : "",
      CampaignLevelsText(s.campaign_levels));
}

// The catalogue, parsed from the files a bundle carries; null when it carries none.
absl::StatusOr<std::shared_ptr<const Catalogue>> DecodeCatalogue(ByteReader& reader) {
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t has_catalogue, reader.GetU32());
  if (has_catalogue == 0) return nullptr;
  PERFCAST_ASSIGN_OR_RETURN(CatalogueFiles files, CatalogueFiles::DecodeFrom(reader));
  absl::StatusOr<Catalogue> parsed = Catalogue::Parse(std::move(files), "bundle");
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("bundle: catalogue: ", parsed.status().message()));
  }
  return std::make_shared<const Catalogue>(*std::move(parsed));
}

}  // namespace

std::string EncodeModelBundle(const PerfcastModel& model) {
  const PerfcastModel::State& s = PerfcastModelInternal::StateOf(model);
  ByteWriter w;
  w.PutString(Manifest(s));
  s.info.EncodeTo(w);
  s.features.vocabulary().EncodeTo(w);
  w.PutU32(s.index.anchors().size());
  for (const AnchorCurve& anchor : s.index.anchors()) anchor.EncodeTo(w);
  s.correction.EncodeTo(w);
  s.physical_exponents.EncodeTo(w);
  // The catalogue's files verbatim, so that a reloaded model computes the features it was
  // trained on whatever the catalogue on disk says by then.
  const Catalogue* catalogue = s.features.catalogue().get();
  w.PutU32(catalogue != nullptr);
  if (catalogue != nullptr) catalogue->files().EncodeTo(w);
  s.similarity.scales().EncodeTo(w);
  s.error_predictor.EncodeTo(w);
  s.calibration.EncodeTo(w);
  s.campaign_levels.EncodeTo(w);
  s.latency.EncodeTo(w);
  s.whole_curve_calibration.EncodeTo(w);
  s.calibration.EncodeLaterKindsTo(w);
  s.whole_curve_calibration.EncodeLaterKindsTo(w);
  s.latency.EncodeSiblingsTo(w);
  s.latency.EncodeDisagreementByOutputTo(w);
  s.physical_exponents.EncodeShapeAndCeilingTo(w);
  s.latency.EncodeTailsTo(w);
  s.latency.EncodeCampaignScoresTo(w);
  s.campaign_calibrations.EncodeTo(w);
  s.calibration.EncodeUnseenHardwareTo(w);
  s.whole_curve_calibration.EncodeUnseenHardwareTo(w);
  s.latency.EncodeDistantSiblingWeightsTo(w);
  return SealBundle(w.Take());
}

absl::StatusOr<std::shared_ptr<const PerfcastModel>> DecodeModelBundle(absl::string_view bytes) {
  uint32_t version = 0;
  PERFCAST_ASSIGN_OR_RETURN(const absl::string_view payload, OpenBundle(bytes, &version));
  ByteReader r(payload);
  PERFCAST_RETURN_IF_ERROR(r.GetString().status());  // the manifest
  PERFCAST_ASSIGN_OR_RETURN(ModelInfo info, ModelInfo::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(FeatureVocabulary vocabulary, FeatureVocabulary::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(const uint32_t curve_count, r.GetU32());
  std::vector<AnchorCurve> anchors;
  for (uint32_t i = 0; i < curve_count; ++i) {
    PERFCAST_ASSIGN_OR_RETURN(AnchorCurve anchor, AnchorCurve::DecodeFrom(r));
    anchors.push_back(std::move(anchor));
  }
  PERFCAST_ASSIGN_OR_RETURN(XGBoostRegressor correction, XGBoostRegressor::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(PhysicalExponents physical_exponents, PhysicalExponents::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(std::shared_ptr<const Catalogue> catalogue, DecodeCatalogue(r));
  // Format 13 on, the correction was trained on anchors that follow their roofline past their
  // last point, format 14 on single points too; older ones on anchors that follow their
  // saturation fit, as they still do.
  if (version >= kFirstBundleFormatWithSinglePointRooflines) {
    AttachRooflines(catalogue.get(), absl::MakeSpan(anchors));
  } else if (version >= kFirstBundleFormatWithRooflines) {
    AttachRooflines(catalogue.get(), absl::MakeSpan(anchors),
                    RooflineReach::kCurvesOfTwoPointsOrMore);
  }
  PERFCAST_ASSIGN_OR_RETURN(const WorkloadScales scales, WorkloadScales::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(ErrorPredictor error_predictor, ErrorPredictor::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(IntervalCalibration calibration, IntervalCalibration::DecodeFrom(r));
  PERFCAST_ASSIGN_OR_RETURN(CampaignLevels campaign_levels, CampaignLevels::DecodeFrom(r));
  // Version 7 ends here: a model without latency answers.
  LatencyModel latency;
  if (version >= 8) {
    PERFCAST_ASSIGN_OR_RETURN(latency, LatencyModel::DecodeFrom(r, catalogue, version));
  }
  // Version 8 ends here: bounds for each point only.
  IntervalCalibration whole_curve_calibration;
  if (version >= 9) {
    PERFCAST_ASSIGN_OR_RETURN(whole_curve_calibration, IntervalCalibration::DecodeFrom(r));
  }
  // Version 14 ends here: a new shape of a configuration of one curve borrows the intervals of
  // one or more (RowKind::kOneCurveShape).
  if (version >= kFirstBundleFormatWithLaterRowKinds) {
    PERFCAST_RETURN_IF_ERROR(calibration.DecodeLaterKindsFrom(r));
    PERFCAST_RETURN_IF_ERROR(whole_curve_calibration.DecodeLaterKindsFrom(r));
  }
  // Version 15 ends here: a latency model that weighs no sibling.
  if (version >= kFirstBundleFormatWithLatencySiblings) {
    PERFCAST_RETURN_IF_ERROR(latency.DecodeSiblingsFrom(r));
  }
  // Version 16 ends here: an ITL's disagreement is its campaign's whatever the output length.
  if (version >= kFirstBundleFormatWithDisagreementByOutput) {
    PERFCAST_RETURN_IF_ERROR(latency.DecodeDisagreementByOutputFrom(r));
  }
  // Version 17 ends here: the kinds' exponents scale the decode ratio across shapes too.
  if (version >= kFirstBundleFormatWithShapeExponentAndCeiling) {
    PERFCAST_RETURN_IF_ERROR(physical_exponents.DecodeShapeAndCeilingFrom(r));
  }
  // Version 18 ends here: no 99th percentiles.
  if (version >= kFirstBundleFormatWithLatencyTails) {
    PERFCAST_RETURN_IF_ERROR(latency.DecodeTailsFrom(r));
  }
  // Version 19 ends here: every campaign's TTFT intervals read the pooled calibration.
  if (version >= kFirstBundleFormatWithCampaignLatencyScores) {
    PERFCAST_RETURN_IF_ERROR(latency.DecodeCampaignScoresFrom(r));
  }
  // Version 20 ends here: every campaign's throughput intervals read the pooled calibrations.
  CampaignCalibrations campaign_calibrations;
  if (version >= kFirstBundleFormatWithCampaignCalibrations) {
    PERFCAST_ASSIGN_OR_RETURN(campaign_calibrations,
                              CampaignCalibrations::DecodeFrom(r, calibration));
  }
  // Version 21 ends here: a GPU the data lack reads the scores of every name they lack
  // (kUnseenHardware borrows kUnseenName's).
  if (version >= kFirstBundleFormatWithUnseenHardwareScores) {
    PERFCAST_RETURN_IF_ERROR(calibration.DecodeUnseenHardwareFrom(r));
    PERFCAST_RETURN_IF_ERROR(whole_curve_calibration.DecodeUnseenHardwareFrom(r));
  }
  // Version 25 ends here: one sibling weight whatever the sibling shares.
  if (version >= kFirstLatencyFormatWithNearAndDistantSiblings) {
    PERFCAST_RETURN_IF_ERROR(latency.DecodeDistantSiblingWeightsFrom(r));
  }
  if (!r.empty()) return absl::DataLossError("bundle: trailing bytes after the last section");

  // A bundle of format 9 or older has no batch-axis columns: its correction is 2 columns narrower.
  TransferFeatures features(vocabulary, catalogue);
  if (correction.feature_count() != features.column_count()) {
    features = TransferFeatures(std::move(vocabulary), std::move(catalogue), /*batch_axes=*/false);
  }
  if (correction.feature_count() != features.column_count()) {
    return absl::DataLossError("bundle: the correction model does not match its features");
  }
  // Train refuses wider models; Predict's row buffers are sized for them.
  if (features.column_count() > kMaxFeatureColumns) {
    return absl::DataLossError(absl::StrCat("bundle: ", features.column_count(),
                                            " feature columns, more than ", kMaxFeatureColumns));
  }
  AnchorIndex index(std::move(anchors));
  for (const std::string& campaign : campaign_calibrations.Campaigns()) {
    if (!campaign_levels.Knows(campaign)) {
      return absl::DataLossError(absl::StrCat("bundle: campaign calibrations for '", campaign,
                                              "', which no curve was measured in"));
    }
  }
  UseSoftwareStacks(features, index);
  auto state = std::make_unique<PerfcastModel::State>(
      std::move(index), std::move(features), std::move(correction), physical_exponents, scales,
      std::move(error_predictor), std::move(calibration), std::move(campaign_levels));
  state->info = info;
  // Version 22 ends here: its intervals were calibrated on the mean of the anchors' readings.
  if (version < kFirstBundleFormatWithMedianOfAnchors) {
    state->anchor_combination = AnchorCombination::kMean;
  }
  state->trees_held_at_trained_batch = version >= kFirstBundleFormatHoldingTreesAtTrainedBatch;
  state->latency = std::move(latency);
  state->whole_curve_calibration = std::move(whole_curve_calibration);
  state->campaign_calibrations = std::move(campaign_calibrations);
  state->info.curve_count = static_cast<int>(state->index.anchors().size());
  state->info.configuration_count = static_cast<int>(state->index.configurations().size());
  return PerfcastModelInternal::FromState(std::move(state));
}

}  // namespace perfcast
