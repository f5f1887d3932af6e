#include "proto/convert/model_version_conversion.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/convert/string_limits.h"
#include "proto/convert/time_conversion.h"

namespace perfcast {
namespace {

TEST(ModelSelectionTest, AnEmptySpecSelectsNeitherVersionNorLabel) {
  absl::StatusOr<ModelSelection> selection = ModelSelectionFromProto(v1::ModelSpec());
  ASSERT_TRUE(selection.ok()) << selection.status();
  EXPECT_FALSE(selection->version.has_value());
  EXPECT_FALSE(selection->latest_label);
}

TEST(ModelSelectionTest, AVersionAndTheLatestLabelAreTaken) {
  v1::ModelSpec spec;
  spec.set_name("default");
  spec.set_version(0);
  absl::StatusOr<ModelSelection> version = ModelSelectionFromProto(spec);
  spec.set_version_label("latest");
  absl::StatusOr<ModelSelection> latest = ModelSelectionFromProto(spec);

  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->version, 0);  // explicitly set: not "the latest"
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_TRUE(latest->latest_label);
}

TEST(ModelSelectionTest, AnotherModelIsNotFoundNamingTheField) {
  v1::ModelSpec spec;
  spec.set_name("other");
  absl::StatusOr<ModelSelection> selection = ModelSelectionFromProto(spec);
  EXPECT_EQ(selection.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(selection.status().message(), "model_spec.name='other': no such model");
}

TEST(ModelSelectionTest, AnUnknownLabelIsNotFoundAndQuotedShort) {
  v1::ModelSpec spec;
  spec.set_version_label(std::string(500, 'x'));
  absl::StatusOr<ModelSelection> selection = ModelSelectionFromProto(spec);
  EXPECT_EQ(selection.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(selection.status().message(), "model_spec.version_label='" + std::string(64, 'x') +
                                              "...': unknown label (known: latest)");
}

TEST(ModelInfoToProtoTest, CarriesTrainTimeDurationAndCounts) {
  ModelInfo info;
  info.trained_at_unix_s = 1700000000;
  info.training_seconds = 2.5;
  info.point_count = 64;
  info.curve_count = 8;
  info.configuration_count = 4;
  v1::ModelVersionStatus status;

  ModelInfoToProto(info, &status);

  EXPECT_EQ(status.train_time().seconds(), 1700000000);
  EXPECT_EQ(DurationFromProto(status.training_duration()), absl::Milliseconds(2500));
  EXPECT_EQ(status.training_point_count(), 64);
  EXPECT_EQ(status.curve_count(), 8);
  EXPECT_EQ(status.configuration_count(), 4);
}

TEST(VersionErrorToProtoTest, KeepsTheCodeAndCutsTheMessage) {
  v1::ModelVersionStatus status;
  VersionErrorToProto(absl::DataLossError(std::string(5000, 'e')), &status);
  EXPECT_EQ(status.error_code(), static_cast<int>(absl::StatusCode::kDataLoss));
  EXPECT_EQ(status.error_message().size(), kMaxErrorMessageBytes);
}

TEST(TimeConversionTest, DurationsAndTimesRoundTripToTheNanosecond) {
  const absl::Duration d = absl::Seconds(3) + absl::Nanoseconds(7);
  const absl::Time t = absl::FromUnixNanos(1700000000123456789);
  EXPECT_EQ(DurationFromProto(DurationToProto(d)), d);
  EXPECT_EQ(TimeFromProto(TimeToProto(t)), t);
}

TEST(EnumNameTest, StatesAndOutcomesDropTheirPrefix) {
  EXPECT_EQ(VersionStateName(v1::ModelVersionStatus::STATE_AVAILABLE), "AVAILABLE");
  EXPECT_EQ(VersionStateName(static_cast<v1::ModelVersionStatus::State>(42)), "UNSPECIFIED");
  EXPECT_EQ(RefitOutcomeName(v1::RefitStatus::OUTCOME_SUCCEEDED), "succeeded");
  EXPECT_EQ(RefitOutcomeName(v1::RefitStatus::OUTCOME_UNSPECIFIED), "unspecified");
}

}  // namespace
}  // namespace perfcast
