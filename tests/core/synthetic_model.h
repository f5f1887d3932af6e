#pragma once

#include <memory>

#include "core/model/perfcast_model.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_benchmarks.h"

namespace perfcast::testing {

// A fixture whose tests share one model trained once on SyntheticRecords(): training takes
// seconds, and the tests only read it.
class SyntheticModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto trained = PerfcastModel::Train(SyntheticRecords(), TrainOptions{});
    ASSERT_TRUE(trained.ok()) << trained.status();
    model_ = new std::shared_ptr<const PerfcastModel>(*trained);
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  const PerfcastModel& model() const { return **model_; }

  static inline std::shared_ptr<const PerfcastModel>* model_ = nullptr;
};

}  // namespace perfcast::testing
