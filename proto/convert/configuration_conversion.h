#pragma once

#include <optional>

#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"
#include "perfcast/v1/perfcast.pb.h"
#include "proto/convert/field_error.h"

namespace perfcast {

inline constexpr int kMaxGpuCount = 65536;

void ConfigurationToProto(const Configuration& configuration, v1::Configuration* out);

// Checks the configuration of a message at `path` ("queries[3]"); `present` says whether the
// message has one. On success fills `out`. The error's field is "configuration" when it is
// missing, "configuration.<field>" otherwise.
std::optional<FieldError> ConfigurationFromProto(const v1::Configuration& configuration,
                                                 bool present, absl::string_view path,
                                                 Configuration* out);

// The same checks for a Configuration that is itself the message at `path` ("candidates[2]"):
// the error's field and message name "candidates[2].gpu_count", without a "configuration" step.
std::optional<FieldError> ConfigurationMessageFromProto(const v1::Configuration& configuration,
                                                        absl::string_view path, Configuration* out);

v1::BatchSemantics BatchSemanticsToProto(BatchSemantics semantics);
// UNSPECIFIED reads as static; nullopt for a number the enum does not define.
std::optional<BatchSemantics> BatchSemanticsFromProto(int value);

// For a client reading a server's answer, which the server already checked.
Configuration ConfigurationFromProtoUnchecked(const v1::Configuration& configuration);

void CatalogueEntriesToProto(const CatalogueEntryNames& names, v1::CatalogueEntries* out);

}  // namespace perfcast
