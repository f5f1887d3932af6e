#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "core/bundle/bundle_format.h"
#include "core/bundle/model_codec.h"
#include "core/model/perfcast_model.h"
#include "core/model/perfcast_model_internal.h"
#include "core/util/byte_coding.h"
#include "gtest/gtest.h"

namespace perfcast::testing {

// `payload` without `tail`, which it must end with.
inline std::string WithoutTail(absl::string_view payload, absl::string_view tail) {
  EXPECT_GE(payload.size(), tail.size());
  if (payload.size() < tail.size()) return "";
  EXPECT_EQ(payload.substr(payload.size() - tail.size()), tail);
  return std::string(payload.substr(0, payload.size() - tail.size()));
}

// `payload` sealed as a bundle of format `version` (the little-endian version follows the 8-byte
// magic; the checksum covers the payload only).
inline std::string SealedAsFormat(absl::string_view payload, uint8_t version) {
  std::string bundle = SealBundle(payload);
  bundle[8] = static_cast<char>(version);
  return bundle;
}

// The payload of `model`'s bundle as format 26 wrote it: formats 27 and 28 added no bytes (they
// changed which TTFT siblings are read together, and how far along the batch the trees are read).
inline std::string Format26PayloadOf(const PerfcastModel& model) {
  const std::string current = EncodeModelBundle(model);
  absl::StatusOr<absl::string_view> payload = OpenBundle(current);
  EXPECT_TRUE(payload.ok()) << payload.status();
  return payload.ok() ? std::string(*payload) : "";
}

// The payload of `model`'s bundle as format 25 wrote it: today's without the weights of distant
// TTFT siblings that format 26 appends after the last section. Formats 23 to 25 added no bytes.
inline std::string Format25PayloadOf(const PerfcastModel& model) {
  const std::string current = EncodeModelBundle(model);
  absl::StatusOr<absl::string_view> payload = OpenBundle(current);
  EXPECT_TRUE(payload.ok()) << payload.status();
  if (!payload.ok()) return "";
  ByteWriter distant_weights;
  PerfcastModelInternal::StateOf(model).latency.EncodeDistantSiblingWeightsTo(distant_weights);
  return WithoutTail(*payload, distant_weights.Take());
}

// `model` as a bundle of format 22 answers: format 25's payload (format 23 added no bytes), whose
// predictions average their anchors' readings rather than take their median. Tests that compare
// an older format's answers with today's model compare them with this, which differs from the
// older format only in what the test is about, for a model trained on concurrency latencies
// in its TTFT backbone (format 25), which no caller's synthetic records have, and in reading a
// TTFT's nearest sibling alone where two are as near (formats 26 and 27).
inline std::shared_ptr<const PerfcastModel> AsFormat22(const PerfcastModel& model) {
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> decoded =
      DecodeModelBundle(SealedAsFormat(Format25PayloadOf(model), 22));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : nullptr;
}

// The payload of `model`'s bundle as format 21 wrote it: format 25's without the scores of
// hardware the data lack that format 22 appends after the last section.
inline std::string Format21PayloadOf(const PerfcastModel& model) {
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model);
  ByteWriter unseen_hardware;
  state.calibration.EncodeUnseenHardwareTo(unseen_hardware);
  state.whole_curve_calibration.EncodeUnseenHardwareTo(unseen_hardware);
  return WithoutTail(Format25PayloadOf(model), unseen_hardware.Take());
}

// The payload of `model`'s bundle as format 20 wrote it: format 21's without each campaign's own
// throughput calibrations that format 21 appends after the last section.
inline std::string Format20PayloadOf(const PerfcastModel& model) {
  ByteWriter campaign_calibrations;
  PerfcastModelInternal::StateOf(model).campaign_calibrations.EncodeTo(campaign_calibrations);
  return WithoutTail(Format21PayloadOf(model), campaign_calibrations.Take());
}

// The payload of `model`'s bundle as format 19 wrote it: format 20's without each campaign's own
// TTFT scores that format 20 appends after the last section.
inline std::string Format19PayloadOf(const PerfcastModel& model) {
  ByteWriter campaign_scores;
  PerfcastModelInternal::StateOf(model).latency.EncodeCampaignScoresTo(campaign_scores);
  return WithoutTail(Format20PayloadOf(model), campaign_scores.Take());
}

// The payload of `model`'s bundle as format 18 wrote it: format 19's without the latency model's
// 99th percentiles that format 19 appends after the last section.
inline std::string Format18PayloadOf(const PerfcastModel& model) {
  ByteWriter tails;
  PerfcastModelInternal::StateOf(model).latency.EncodeTailsTo(tails);
  return WithoutTail(Format19PayloadOf(model), tails.Take());
}

// The payload of `model`'s bundle as format 17 wrote it: format 18's without the shape's physical
// exponent that format 18 appends after the last section.
inline std::string Format17PayloadOf(const PerfcastModel& model) {
  ByteWriter shape;
  PerfcastModelInternal::StateOf(model).physical_exponents.EncodeShapeAndCeilingTo(shape);
  return WithoutTail(Format18PayloadOf(model), shape.Take());
}

// The payload of `model`'s bundle as format 16 wrote it: format 17's without the disagreement
// quantiles by output length that format 17 appends after the last section.
inline std::string Format16PayloadOf(const PerfcastModel& model) {
  ByteWriter by_output;
  PerfcastModelInternal::StateOf(model).latency.EncodeDisagreementByOutputTo(by_output);
  return WithoutTail(Format17PayloadOf(model), by_output.Take());
}

// The payload of `model`'s bundle as format 15 wrote it: format 16's without the latency model's
// sibling curves and weights that format 16 appends after the last section.
inline std::string Format15PayloadOf(const PerfcastModel& model) {
  ByteWriter siblings;
  PerfcastModelInternal::StateOf(model).latency.EncodeSiblingsTo(siblings);
  return WithoutTail(Format16PayloadOf(model), siblings.Take());
}

// The payload of `model`'s bundle as format 14 wrote it: format 15's without the interval
// calibrations' later kinds. Older formats are made from it by taking off the sections they
// lacked.
inline std::string Format14PayloadOf(const PerfcastModel& model) {
  const PerfcastModel::State& state = PerfcastModelInternal::StateOf(model);
  ByteWriter later;
  state.calibration.EncodeLaterKindsTo(later);
  state.whole_curve_calibration.EncodeLaterKindsTo(later);
  return WithoutTail(Format15PayloadOf(model), later.Take());
}

}  // namespace perfcast::testing
