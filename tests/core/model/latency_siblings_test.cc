#include "core/model/latency_siblings.h"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

Configuration ConfigurationOf(const std::string& hardware, int gpus, const std::string& framework,
                              const std::string& model, const std::string& precision,
                              const std::string& campaign = "lab") {
  Configuration c;
  c.hardware = hardware;
  c.num_gpus = gpus;
  c.framework = framework;
  c.model = model;
  c.precision = precision;
  c.campaign = campaign;
  c.batch_semantics = BatchSemantics::kConcurrency;
  return c;
}

// A curve of `configuration` at `shape` whose log share is `level` plus the batch's log2 (so a
// read tells which curve and which batch it came from).
void AddCurve(std::vector<LatencySample>& samples, const Configuration& configuration,
              const Shape& shape, double level, std::vector<int> batches = {4, 16, 64}) {
  for (int b : batches) samples.push_back({configuration, shape, b, level + std::log2(b)});
}

using Rule = LatencySiblings::Rule;

// The siblings' log share at a batch, as `rule` reads them; nullopt without a sibling.
std::optional<double> LogShareAt(const LatencySiblings& siblings,
                                 const Configuration& configuration, const Shape& shape,
                                 int batch_size, Rule rule = Rule::kNearestAlone) {
  const LatencySiblings::SiblingCurves found = siblings.FindCurves(configuration, shape, rule);
  if (found.empty()) return std::nullopt;
  return siblings.LogShareOn(found, batch_size);
}

// Whether the configuration's own curve at the shape spans the batch.
bool OwnCurveSpans(const LatencySiblings& siblings, const Configuration& configuration,
                   const Shape& shape, int batch_size) {
  const int curve = siblings.OwnCurve(configuration, shape);
  return curve >= 0 && siblings.Spans(curve, batch_size);
}

const Shape kShape{1024, 1024};
const Configuration kQuery = ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp8");

TEST(LatencySiblingsTest, PrefersTheSameModelThenHardwareAndNeverItself) {
  // The winner sorts last among the configurations, so that the first one in order would not do.
  std::vector<LatencySample> samples;
  AddCurve(samples, kQuery, kShape, 100);                                                  // itself
  AddCurve(samples, ConfigurationOf("A100", 2, "sglang", "llama-8b", "fp8"), kShape, 1);   // 2
  AddCurve(samples, ConfigurationOf("H100", 2, "sglang", "llama-8b", "fp8"), kShape, 5);   // 5
  AddCurve(samples, ConfigurationOf("H100", 4, "sglang", "llama-70b", "fp4"), kShape, 3);  // 7
  AddCurve(samples, ConfigurationOf("Z200", 2, "vllm", "llama-70b", "fp8"), kShape, 2);    // 8
  const LatencySiblings siblings = LatencySiblings::Build(samples);

  const std::optional<double> found = LogShareAt(siblings, kQuery, kShape, 16);
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(*found, 2 + 4) << "the Z200 curve";
}

TEST(LatencySiblingsTest, OnATieTheNearestGpuCountWins) {
  // Eight GPUs asked; two and four share as much, four is nearer, two comes first in order.
  Configuration eight = kQuery;
  eight.num_gpus = 8;
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "bf16"), kShape, 1);
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "bf16"), kShape, 2);
  const std::optional<double> found = LogShareAt(LatencySiblings::Build(samples), eight, kShape, 4);
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(*found, 2 + 2) << "the 4-GPU curve, batch 4";
}

TEST(LatencySiblingsTest, TwoAsNearAsEachOtherAreAveraged) {
  // Eight GPUs asked: one, two and four share every name; four and two are the nearest counts.
  Configuration eight = kQuery;
  eight.num_gpus = 8;
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 1, "vllm", "llama-70b", "fp8"), kShape, 1);
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp8"), kShape, 2);
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 3);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  const LatencySiblings::SiblingCurves found =
      siblings.FindCurves(eight, kShape, Rule::kAsManyFieldsShared);
  EXPECT_EQ(found.count, 2);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, eight, kShape, 16, Rule::kAsManyFieldsShared),
                   (2 + 3) / 2.0 + 4);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, eight, kShape, 16), 3 + 4) << "the nearest alone";
  EXPECT_TRUE(found.one_field_apart) << "only the GPU count differs";
  EXPECT_EQ(siblings.FindCurves(eight, kShape, Rule::kNearestAlone).count, 1);
  // From format 27 four GPUs are nearer than two: read alone.
  EXPECT_EQ(siblings.FindCurves(eight, kShape, Rule::kSamePrecisionFirst).count, 1);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, eight, kShape, 16, Rule::kSamePrecisionFirst), 3 + 4);
}

TEST(LatencySiblingsTest, FromFormat27TheQuerysPrecisionRanksFirstAndTiesMustBeAsNear) {
  // Two GPUs of fp8 asked. One field apart each: four and one GPUs of fp8 (twice and half the
  // count), and two GPUs of fp16, which format 26 ranks first as the nearest count.
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 1, "vllm", "llama-70b", "fp8"), kShape, 3);
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp16"), kShape, 5);
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 1);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  const LatencySiblings::SiblingCurves found =
      siblings.FindCurves(kQuery, kShape, Rule::kSamePrecisionFirst);
  EXPECT_EQ(found.count, 2);
  EXPECT_TRUE(found.one_field_apart);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4, Rule::kSamePrecisionFirst),
                   (3 + 1) / 2.0 + 2)
      << "one GPU and four bracket two; fp16 unread";
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4, Rule::kAsManyFieldsShared),
                   (5 + 3) / 2.0 + 2)
      << "format 26: fp16, then the first of the two counts in order";

  // Another precision alone on the query's GPUs: two such are as near as each other.
  std::vector<LatencySample> precisions;
  AddCurve(precisions, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp16"), kShape, 5);
  AddCurve(precisions, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4"), kShape, 7);
  EXPECT_DOUBLE_EQ(
      *LogShareAt(LatencySiblings::Build(precisions), kQuery, kShape, 4, Rule::kSamePrecisionFirst),
      (5 + 7) / 2.0 + 2);

  // Counts that are not powers of two: the query's fp8 on `query_gpus`, read at batch 4 among
  // fp8 siblings on `sibling_gpus`, whose curves sit at levels 1, 3 and 9 in that order.
  auto read_among_counts = [](int query_gpus, const std::array<int, 3>& sibling_gpus) {
    Configuration query = kQuery;
    query.num_gpus = query_gpus;
    std::vector<LatencySample> counts;
    const double levels[] = {1, 3, 9};
    for (int i = 0; i < 3; ++i) {
      AddCurve(counts, ConfigurationOf("H100", sibling_gpus[i], "vllm", "llama-70b", "fp8"), kShape,
               levels[i]);
    }
    return *LogShareAt(LatencySiblings::Build(counts), query, kShape, 4, Rule::kSamePrecisionFirst);
  };
  // 5 and 20 are as many times from 10, a tie that the differences of their rounded logarithms
  // split in the last bit; around 20 the rounding ranks 40 (the later entry) before 10.
  EXPECT_DOUBLE_EQ(read_among_counts(10, {5, 20, 32}), (1 + 3) / 2.0 + 2);
  EXPECT_DOUBLE_EQ(read_among_counts(20, {10, 40, 80}), (1 + 3) / 2.0 + 2);

  // Further than one field, read as under format 26: as many shared fields are enough.
  std::vector<LatencySample> far;
  AddCurve(far, ConfigurationOf("A100", 1, "vllm", "llama-70b", "fp8"), kShape, 1);
  AddCurve(far, ConfigurationOf("A100", 8, "vllm", "llama-70b", "fp8"), kShape, 3);
  const LatencySiblings far_siblings = LatencySiblings::Build(far);
  EXPECT_FALSE(far_siblings.FindCurves(kQuery, kShape, Rule::kSamePrecisionFirst).one_field_apart);
  EXPECT_DOUBLE_EQ(*LogShareAt(far_siblings, kQuery, kShape, 4, Rule::kSamePrecisionFirst),
                   (1 + 3) / 2.0 + 2);
}

TEST(LatencySiblingsTest, ASiblingThatSharesLessThanTheNearestIsNotRead) {
  // The same model on another GPU (4 + 1 + 1) outranks another model on the query's GPU (3 + 1).
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("A100", 2, "sglang", "llama-70b", "fp8"), kShape, 1);
  AddCurve(samples, ConfigurationOf("H100", 2, "sglang", "llama-8b", "fp4"), kShape, 5);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  for (Rule rule : {Rule::kAsManyFieldsShared, Rule::kSamePrecisionFirst}) {
    EXPECT_EQ(siblings.FindCurves(kQuery, kShape, rule).count, 1);
    EXPECT_FALSE(siblings.FindCurves(kQuery, kShape, rule).one_field_apart);
    EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4, rule), 1 + 2);
  }
}

TEST(LatencySiblingsTest, AnotherPrecisionOrAnotherGpuCountIsOneFieldApart) {
  // The query's GPU count in another precision scores as much as every name at another GPU count
  // (4 + 3 + 2 + 1), and both are one field apart. Format 26 ranks it first as nearer in GPU
  // count and reads the two together; from format 27 the query's precision comes first, and the
  // other precision is not as near: the four GPUs are read alone.
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 1);
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp16"), kShape, 5);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  const LatencySiblings::SiblingCurves found =
      siblings.FindCurves(kQuery, kShape, Rule::kAsManyFieldsShared);
  EXPECT_EQ(found.count, 2);
  EXPECT_TRUE(found.one_field_apart);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4), 5 + 2) << "the fp16 curve";
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4, Rule::kAsManyFieldsShared),
                   (1 + 5) / 2.0 + 2);
  const LatencySiblings::SiblingCurves same_precision_first =
      siblings.FindCurves(kQuery, kShape, Rule::kSamePrecisionFirst);
  EXPECT_EQ(same_precision_first.count, 1);
  EXPECT_TRUE(same_precision_first.one_field_apart);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 4, Rule::kSamePrecisionFirst), 1 + 2)
      << "the 4-GPU fp8 curve";
  // Another precision at another GPU count is two fields apart.
  std::vector<LatencySample> two_apart;
  AddCurve(two_apart, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp16"), kShape, 1);
  EXPECT_FALSE(LatencySiblings::Build(two_apart)
                   .FindCurves(kQuery, kShape, Rule::kAsManyFieldsShared)
                   .one_field_apart);
}

TEST(LatencySiblingsTest, NamesTheTableLacksRankByTheOthers) {
  // A GPU and a stack no curve carries: the same model still outranks the same precision.
  const Configuration query = ConfigurationOf("X999", 2, "new-stack", "llama-70b", "fp8");
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-8b", "fp8"), kShape, 1);
  AddCurve(samples, ConfigurationOf("B200", 8, "sglang", "llama-70b", "fp4"), kShape, 2);
  const std::optional<double> found = LogShareAt(LatencySiblings::Build(samples), query, kShape, 4);
  ASSERT_TRUE(found.has_value());
  EXPECT_DOUBLE_EQ(*found, 2 + 2) << "the llama-70b curve, batch 4";
}

TEST(LatencySiblingsTest, AConfigurationsOwnCurveSpansItsMeasuredBatchesOnly) {
  std::vector<LatencySample> samples;
  AddCurve(samples, kQuery, kShape, 0);  // batches 4, 16, 64
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  EXPECT_TRUE(OwnCurveSpans(siblings, kQuery, kShape, 4));
  EXPECT_TRUE(OwnCurveSpans(siblings, kQuery, kShape, 30));
  EXPECT_TRUE(OwnCurveSpans(siblings, kQuery, kShape, 64));
  EXPECT_FALSE(OwnCurveSpans(siblings, kQuery, kShape, 2));
  EXPECT_FALSE(OwnCurveSpans(siblings, kQuery, kShape, 128));
  EXPECT_FALSE(OwnCurveSpans(siblings, kQuery, {1024, 128}, 16)) << "another shape";
  Configuration other = kQuery;
  other.precision = "fp4";
  EXPECT_FALSE(OwnCurveSpans(siblings, other, kShape, 16)) << "another configuration";
}

TEST(LatencySiblingsTest, OnlyTheSameCampaignAxisAndShape) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4", "other"), kShape, 1);
  Configuration static_batch = ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4");
  static_batch.batch_semantics = BatchSemantics::kStatic;
  AddCurve(samples, static_batch, kShape, 2);
  AddCurve(samples, ConfigurationOf("H100", 2, "vllm", "llama-70b", "fp4"), {1024, 128}, 3);
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  EXPECT_FALSE(LogShareAt(siblings, kQuery, kShape, 16).has_value());
  EXPECT_TRUE(LogShareAt(siblings, kQuery, {1024, 128}, 16).has_value());
}

TEST(LatencySiblingsTest, InterpolatesInLogBatchAndHoldsAtTheEnds) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 0);
  samples[1].log_share = 10;  // a bend at 16: each segment has its own slope
  const LatencySiblings siblings = LatencySiblings::Build(samples);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 8), 2 + (10 - 2) / 2.0);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 32), 10 + (6 - 10) / 2.0);
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 1), 2) << "held at the first batch";
  EXPECT_DOUBLE_EQ(*LogShareAt(siblings, kQuery, kShape, 256), 6) << "held at the last batch";
}

TEST(LatencySiblingsTest, RoundTripsAndRejectsATruncatedTable) {
  std::vector<LatencySample> samples;
  AddCurve(samples, ConfigurationOf("H100", 4, "vllm", "llama-70b", "fp8"), kShape, 0.5);
  AddCurve(samples, ConfigurationOf("B200", 8, "sglang", "llama-70b", "fp4"), {128, 2048}, 1.5,
           {1});
  const LatencySiblings built = LatencySiblings::Build(samples);
  ByteWriter writer;
  built.EncodeTo(writer);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  absl::StatusOr<LatencySiblings> decoded = LatencySiblings::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(reader.empty());
  for (int batch : {1, 6, 100}) {
    for (const Shape& shape : {kShape, Shape{128, 2048}}) {
      const std::optional<double> a = LogShareAt(built, kQuery, shape, batch);
      const std::optional<double> b = LogShareAt(*decoded, kQuery, shape, batch);
      ASSERT_TRUE(a.has_value() && b.has_value());
      EXPECT_EQ(*a, *b);
    }
  }
  ByteReader truncated(absl::string_view(bytes).substr(0, bytes.size() - 3));
  EXPECT_EQ(LatencySiblings::DecodeFrom(truncated).status().code(), absl::StatusCode::kDataLoss);
}

// A table written by hand: a curve at kShape per configuration, `copies` times.
struct HandWritten {
  Configuration configuration;
  std::vector<std::pair<double, double>> points;  // log2 batch, log share
  int copies = 1;
};

std::string Written(const std::vector<HandWritten>& entries) {
  ByteWriter writer;
  writer.PutU32(entries.size());
  for (const HandWritten& e : entries) {
    e.configuration.EncodeTo(writer);
    writer.PutU32(e.copies);
    for (int copy = 0; copy < e.copies; ++copy) {
      writer.PutI32(kShape.input_tokens);
      writer.PutI32(kShape.output_tokens);
      writer.PutU32(e.points.size());
      for (const auto& [x, share] : e.points) {
        writer.PutDouble(x);
        writer.PutDouble(share);
      }
    }
  }
  return writer.Take();
}

absl::StatusCode DecodeCode(const std::string& bytes) {
  ByteReader reader(bytes);
  return LatencySiblings::DecodeFrom(reader).status().code();
}

TEST(LatencySiblingsTest, ACorruptTableIsDataLoss) {
  const Configuration a = ConfigurationOf("A100", 1, "vllm", "m", "fp8");
  const Configuration b = ConfigurationOf("B200", 1, "vllm", "m", "fp8");
  Configuration unknown_axis = a;
  unknown_axis.batch_semantics = static_cast<BatchSemantics>(7);
  EXPECT_EQ(DecodeCode(Written({{a, {{1, 0.5}, {2, 0.4}}}})), absl::StatusCode::kOk);
  EXPECT_EQ(DecodeCode(Written({{unknown_axis, {{1, 0.5}}}})), absl::StatusCode::kDataLoss)
      << "axis";
  EXPECT_EQ(DecodeCode(Written({{a, {}}})), absl::StatusCode::kDataLoss) << "empty";
  EXPECT_EQ(DecodeCode(Written({{a, {{2, 0.5}, {1, 0.4}}}})), absl::StatusCode::kDataLoss)
      << "batches out of order";
  EXPECT_EQ(DecodeCode(Written({{a, {{1, std::nan("")}}}})), absl::StatusCode::kDataLoss)
      << "a share that is not a number";
  EXPECT_EQ(DecodeCode(Written({{b, {{1, 0.5}}}, {a, {{1, 0.5}}}})), absl::StatusCode::kDataLoss)
      << "configurations out of order";
  EXPECT_EQ(DecodeCode(Written({{a, {{1, 0.5}}}, {a, {{1, 0.5}}}})), absl::StatusCode::kDataLoss)
      << "a configuration twice";
  EXPECT_EQ(DecodeCode(Written({{a, {{1, 0.5}}, 2}})), absl::StatusCode::kDataLoss)
      << "a shape twice";
}

}  // namespace
}  // namespace perfcast
