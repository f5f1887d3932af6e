#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model/perfcast_model.h"

namespace perfcast {

// A model as bundle bytes: the container of bundle_format.h around a payload that holds, in this
// order, a human-readable manifest, the ModelInfo, the feature vocabulary, the anchor curves, the
// correction model, the physical exponents, the catalogue files when the model has a catalogue,
// the workload scales, the error predictor and the interval calibration, then the sections each
// later format appended (bundle_format.h), the weights of distant TTFT siblings last; each is
// written by its own type. A change to any of them is a new kBundleFormatVersion.
//
// Thread safety: both functions are free of shared state; call them from any thread.
std::string EncodeModelBundle(const PerfcastModel& model);

// The model EncodeModelBundle wrote, predicting exactly as it did. DataLoss for a corrupt bundle,
// InvalidArgument for a foreign file or an unknown format version.
absl::StatusOr<std::shared_ptr<const PerfcastModel>> DecodeModelBundle(absl::string_view bytes);

}  // namespace perfcast
