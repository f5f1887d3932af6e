#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace perfcast {

// "--name value", "--name=value" and bare "--flag" arguments of one subcommand. A name may
// repeat (--data a.csv --data b.csv). Arguments that are not flags (`quarantine release 12 13`)
// are positionals, accepted only where the subcommand allows them.
class CommandLine {
 public:
  // `boolean_flags` take no value.
  static absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& arguments,
                                           const std::vector<std::string>& known_flags,
                                           const std::vector<std::string>& boolean_flags,
                                           bool allow_positionals = false);

  // The arguments that are not flags, in order.
  const std::vector<std::string>& positionals() const { return positionals_; }

  bool Has(const std::string& name) const { return values_.contains(name); }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  absl::StatusOr<std::string> Required(const std::string& name) const;
  absl::StatusOr<int> GetInt(const std::string& name, int fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
  // "1,16,64" -> {1, 16, 64}.
  absl::StatusOr<std::vector<int>> GetIntList(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace perfcast
