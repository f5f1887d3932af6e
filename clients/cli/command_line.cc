#include "clients/cli/command_line.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace perfcast {

absl::StatusOr<CommandLine> CommandLine::Parse(const std::vector<std::string>& arguments,
                                               const std::vector<std::string>& known_flags,
                                               const std::vector<std::string>& boolean_flags,
                                               bool allow_positionals) {
  auto contains = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  CommandLine line;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (argument.rfind("--", 0) != 0) {
      if (allow_positionals) {
        line.positionals_.push_back(argument);
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", argument, "'"));
    }
    std::string name = argument.substr(2);
    std::string value;
    const size_t equals = name.find('=');
    const bool inline_value = equals != std::string::npos;
    if (inline_value) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    if (contains(boolean_flags, name)) {
      if (inline_value) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      line.values_[name].push_back("true");
      continue;
    }
    if (!contains(known_flags, name)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!inline_value) {
      if (i + 1 >= arguments.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = arguments[++i];
    }
    line.values_[name].push_back(value);
  }
  return line;
}

std::string CommandLine::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> CommandLine::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<std::string> CommandLine::Required(const std::string& name) const {
  if (!Has(name)) return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  return Get(name);
}

absl::StatusOr<int> CommandLine::GetInt(const std::string& name, int fallback) const {
  if (!Has(name)) return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(Get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=", Get(name), ": not an integer"));
  }
  return value;
}

absl::StatusOr<double> CommandLine::GetDouble(const std::string& name, double fallback) const {
  if (!Has(name)) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(Get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, "=", Get(name), ": not a number"));
  }
  return value;
}

absl::StatusOr<std::vector<int>> CommandLine::GetIntList(const std::string& name) const {
  absl::StatusOr<std::string> text = Required(name);
  if (!text.ok()) return text.status();
  std::vector<int> values;
  for (absl::string_view part : absl::StrSplit(*text, ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", *text, ": '", part, "' is not an integer"));
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace perfcast
