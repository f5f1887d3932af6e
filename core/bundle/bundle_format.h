#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace perfcast {

// The container of a model bundle:
//   magic "PERFCAST" | u32 format version | u64 payload size | u64 FNV-1a-64 of payload | payload
// All integers little-endian. The payload starts with a human-readable manifest string.
inline constexpr absl::string_view kBundleMagic = "PERFCAST";
// 28: no new section; the correction is read no further along the batch than the training
// curves of the query's axis reached (Corrector::largest_trained_batch), the held-out errors
// that calibrate the intervals alike (FoldBatchRanges). A bundle of format 27 or older reads its
// trees at the asked batch, as its intervals were calibrated. (The ITL interval's first-order
// propagation changed with it in every format: no held-out score calibrates that formula.)
// 27: no new section; among a TTFT's siblings one field apart from the query, one of the query's
// precision ranks first, and a second is read only where it is as near in every respect
// (LatencySiblings::Rule::kSamePrecisionFirst), the weights chosen on such answers. A bundle of
// format 26 still reads a second wherever it shares as many fields, as its weights were chosen
// (kFirstLatencyFormatWithSamePrecisionSiblingsFirst).
// 26: the weights of TTFT siblings more than one field apart from the query
// (LatencyModel::EncodeDistantSiblingWeightsTo) follow the unseen-hardware scores, and a TTFT
// read off siblings takes the mean share of those as similar as the nearest (up to two;
// LatencySiblings::FindCurves), both weights chosen on such answers. A bundle of format 25 or
// older reads the nearest sibling alone under one weight for any sibling, as its weights were
// chosen (kFirstLatencyFormatWithNearAndDistantSiblings).
// 25: no new section; the latency model's TTFT backbone under a client's concurrency prefills
// the request's own prompt, not the whole batch's (TtftBackboneSeconds), and its corrections were
// trained so. A binary of format 24 would read them over the static batch's backbone: it refuses
// the bundle. A bundle of format 24 or older reads the static batch's backbone on every axis
// (LatencyModel::DecodeFrom, kFirstLatencyFormatWithConcurrencyBackbone).
// 24: no new section; the stored catalogue may give models and model aliases a
// checkpoint_precision, in which a run that records no precision is read
// (Catalogue::PrecisionOf). A binary of format 23 would ignore that column and answer otherwise
// than the model was trained: it refuses the bundle. Older bundles carry no such column.
// 23: no new section; a prediction combines its anchors' corrected readings by their median
// (AnchorCombination::kMedian), as the held-out errors that calibrated its intervals did. A bundle
// of format 22 or older averages them, as its intervals were calibrated.
// 22: the unseen-name scores of the hardware alone (RowKind::kUnseenHardware), which a new
// configuration on a GPU the data lack reads, follow the campaigns' calibrations, pooled and
// whole-curve (IntervalCalibration::EncodeUnseenHardwareTo); a bundle of format 21 or older
// calibrates a GPU the data lack with every unseen name's scores, as it did.
// 21: each campaign's own throughput interval calibration for each point
// (CampaignCalibrations::EncodeTo) follows the campaign TTFT scores; a bundle of format 20 or
// older calibrates every campaign's throughput intervals with the pooled scores, as it did.
// 20: each campaign's own held-out TTFT scores per calibration situation
// (LatencyModel::EncodeCampaignScoresTo) follow the tails; a bundle of format 19 or older
// calibrates every campaign's TTFT and ITL intervals with the pooled scores, as it did.
// 19: the latency model's 99th percentiles of TTFT and TPOT (LatencyModel::EncodeTailsTo) follow
// the shape exponents; a bundle of format 18 or older answers no 99th percentile, as it did.
// 18: an anchor of another shape is scaled by its configuration's roofline step between the
// shapes, to a power of its own, and an anchor of another configuration by the decode ratio at
// the anchor's shape; an anchored prediction is held at a ceiling share of its roofline
// (PhysicalExponents::shape and efficiency_ceiling, after the last section). A bundle of format
// 17 or older scales the decode ratio across shape and configuration together and sets no
// ceiling, as it was trained.
// 17: the latency model's disagreement quantiles (how far a campaign's ITL lies from the one its
// figures imply) also per output length, after the siblings
// (LatencyModel::EncodeDisagreementByOutputTo); a bundle of format 16 or older reads its
// campaigns' whole quantiles at every length, as it did.
// 16: the latency model blends a TTFT with the share of the batch latency that the nearest
// sibling configuration measured at the same shape; its weights, no-sibling quantiles and sibling
// curves follow the last section (LatencyModel::EncodeSiblingsTo). A bundle of format 15 or older
// weighs no sibling and answers as it did.
// 15: the interval calibrations of situations added since (IntervalCalibration's later kinds: a
// new shape of a configuration measured at one other shape) follow the last section; a bundle of
// format 14 or older answers such a new shape with the intervals of any new shape, as it did.
// 14: a single-point anchor follows its roofline at its own efficiency (a published maximum only
// below its stand-in batch); in a format-13 bundle it keeps the line through the origin below and
// the level above that its correction was trained on.
// 13: anchors follow their configuration's roofline past their last measured batch
// (AnchorCurve::ThroughputAt), worked out from the bundle's catalogue when it loads; an older
// bundle's anchors follow their saturation fit there, as its correction was trained on.
// 12: the error predictor reads a 13th feature, the share of a new shape's prediction read off a
// sibling's step of the query's campaign (ErrorFeatures::shape_transfer_weight); one of format 11
// or older, of 12 features, still loads and never reads it. 11: the latency model's calibration has
// a situation of its own for batches past a curve's measured ones
// (LatencySituation::kExtrapolatedBatch); a bundle of format 10 or older answers there with its
// same-configuration scores, as it did. 10: the correction reads the query's and the anchor's batch
// axes (TransferFeatures); a bundle without them (format 9, or a format-9 model saved again) loads
// with the columns it was trained on, the decoder telling the layouts apart by the correction's
// width. 9: the whole-curve interval calibration follows the latency model; version 8 loads with
// pointwise bounds only. 8: the latency model (TTFT and ITL, docs/METHOD.md §9) follows the last
// section; version 7 still loads, with no latency answers. 6: the catalogue carries frameworks.csv.
// 5: one-hot columns that are not set are missing, no longer 0. A server that finds a version older
// than kOldestReadableBundleFormatVersion retrains rather than loading it.
inline constexpr uint32_t kBundleFormatVersion = 28;
inline constexpr uint32_t kOldestReadableBundleFormatVersion = 7;
// The correction of an older bundle was trained on anchors that follow their fits past their last
// batch: attaching rooflines to them would change what it corrects.
inline constexpr uint32_t kFirstBundleFormatWithRooflines = 13;
// Format 14 on, single-point anchors follow their rooflines too.
inline constexpr uint32_t kFirstBundleFormatWithSinglePointRooflines = 14;
// Format 15 on, the interval calibrations' later kinds follow the last section.
inline constexpr uint32_t kFirstBundleFormatWithLaterRowKinds = 15;
// Format 16 on, the latency model's sibling weights, no-sibling quantiles and curves follow them.
inline constexpr uint32_t kFirstBundleFormatWithLatencySiblings = 16;
// Format 17 on, the disagreement quantiles by output length follow them.
inline constexpr uint32_t kFirstBundleFormatWithDisagreementByOutput = 17;
// Format 18 on, the shape's physical exponent and the efficiency ceiling follow them.
inline constexpr uint32_t kFirstBundleFormatWithShapeExponentAndCeiling = 18;
// Format 19 on, the latency model's 99th percentiles follow them.
inline constexpr uint32_t kFirstBundleFormatWithLatencyTails = 19;
// Format 20 on, each campaign's own TTFT calibration scores follow them.
inline constexpr uint32_t kFirstBundleFormatWithCampaignLatencyScores = 20;
// Format 21 on, each campaign's own throughput calibration follows them.
inline constexpr uint32_t kFirstBundleFormatWithCampaignCalibrations = 21;
// Format 22 on, the unseen hardware's scores follow them.
inline constexpr uint32_t kFirstBundleFormatWithUnseenHardwareScores = 22;
// Format 23 on, a prediction reads its anchors' median.
inline constexpr uint32_t kFirstBundleFormatWithMedianOfAnchors = 23;
// Format 28 on, the correction is read no further along the batch than its curves reached.
inline constexpr uint32_t kFirstBundleFormatHoldingTreesAtTrainedBatch = 28;

std::string SealBundle(absl::string_view payload);
// InvalidArgument for a file that is not a perfcast bundle or has a format version outside
// [kOldestReadableBundleFormatVersion, kBundleFormatVersion]; DataLoss for a truncated or
// corrupted one. `version`, when not null, receives the file's format version.
absl::StatusOr<absl::string_view> OpenBundle(absl::string_view bytes, uint32_t* version = nullptr);

}  // namespace perfcast
