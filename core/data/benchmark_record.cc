#include "core/data/benchmark_record.h"

#include "absl/strings/str_cat.h"

namespace perfcast {

std::string Configuration::ToString() const {
  return absl::StrCat(hardware, "/", num_gpus, "/", framework, "/", model, "/", precision);
}

}  // namespace perfcast
