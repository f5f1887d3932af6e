#include "proto/convert/message_parsing.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "proto/convert/field_error.h"
#include "proto/convert/string_limits.h"

namespace perfcast {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// The bytes of a bad string as an error quotes them: escaped, so that they survive in a UTF-8
// status message, and cut like any quoted value.
std::string QuoteBytes(absl::string_view value) {
  const absl::string_view kept = value.substr(0, kMaxQuotedBytes);
  return absl::StrCat("'", absl::CHexEscape(kept), kept.size() < value.size() ? "...'" : "'");
}

// Walks `encoded` (already known to be well-formed wire format) as `type` and returns the message
// naming the first string field whose bytes are not UTF-8. The wire format is read as unknown
// fields, which keeps every field's raw bytes, and matched to `type` by field number.
std::optional<std::string> FindInvalidUtf8(const UnknownFieldSet& encoded, const Descriptor& type,
                                           const std::string& path) {
  std::map<int, int> seen;  // occurrences per field number: the index of a repeated field
  for (int i = 0; i < encoded.field_count(); ++i) {
    const UnknownField& field = encoded.field(i);
    const FieldDescriptor* descriptor = type.FindFieldByNumber(field.number());
    const int occurrence = seen[field.number()]++;
    if (descriptor == nullptr || field.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    std::string name = FieldPath(path, descriptor->name());
    if (descriptor->is_repeated()) absl::StrAppend(&name, "[", occurrence, "]");
    if (descriptor->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(field.length_delimited())) {
        return absl::StrCat(name, "=", QuoteBytes(field.length_delimited()),
                            ": not valid UTF-8 (a string field must be; send text)");
      }
    } else if (descriptor->type() == FieldDescriptor::TYPE_MESSAGE) {
      UnknownFieldSet nested;
      if (!nested.ParseFromString(field.length_delimited())) continue;
      if (std::optional<std::string> found =
              FindInvalidUtf8(nested, *descriptor->message_type(), name)) {
        return found;
      }
    }
  }
  return std::nullopt;
}

// The path of the first field, at any depth, whose number `message`'s type does not define.
std::optional<std::string> FindUnknownField(const Message& message, const std::string& path) {
  const Reflection& reflection = *message.GetReflection();
  const UnknownFieldSet& unknown = reflection.GetUnknownFields(message);
  if (!unknown.empty()) {
    const int number = unknown.field(0).number();
    // Protobuf keeps a known field sent with another wire type as an unknown one.
    if (const FieldDescriptor* known = message.GetDescriptor()->FindFieldByNumber(number);
        known != nullptr) {
      return absl::StrCat(path.empty() ? "" : absl::StrCat(path, ": "), "field number ", number,
                          " (", known->name(), ") has the wrong wire type");
    }
    return absl::StrCat(path.empty() ? "" : absl::StrCat(path, ": "), "field number ", number,
                        " is not a field of ", message.GetDescriptor()->full_name());
  }
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string name = FieldPath(path, field->name());
    if (!field->is_repeated()) {
      if (auto found = FindUnknownField(reflection.GetMessage(message, field), name)) return found;
      continue;
    }
    for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
      if (auto found = FindUnknownField(reflection.GetRepeatedMessage(message, field, i),
                                        absl::StrCat(name, "[", i, "]"))) {
        return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsValidUtf8(absl::string_view value) {
  size_t i = 0;
  while (i < value.size()) {
    const auto lead = static_cast<unsigned char>(value[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t smallest = 0;  // below it, the form is overlong
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
      smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
      smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
      smallest = 0x10000;
    } else {
      return false;
    }
    if (value.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(value[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

absl::Status ParseMessage(absl::string_view bytes, absl::string_view path, UnknownFields unknown,
                          Message* message) {
  const std::string prefix = path.empty() ? "" : absl::StrCat(path, ": ");
  // The message first: what every valid request costs. Only a refused one is read again, to say
  // why (protobuf's parser says it only in its own log).
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    UnknownFieldSet encoded;
    if (!encoded.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, bytes.size(), " bytes that are not a ",
                                                     message->GetDescriptor()->full_name(),
                                                     " (not protobuf wire format)"));
    }
    if (std::optional<std::string> bad =
            FindInvalidUtf8(encoded, *message->GetDescriptor(), std::string(path))) {
      return absl::InvalidArgumentError(*bad);
    }
    // Well-formed wire format whose fields do not fit the type (a number where a string belongs,
    // a nested message that does not parse).
    return absl::InvalidArgumentError(absl::StrCat(prefix, bytes.size(), " bytes that are not a ",
                                                   message->GetDescriptor()->full_name(),
                                                   " (fields of the wrong type)"));
  }
  if (unknown == UnknownFields::kRefuse) {
    if (std::optional<std::string> found = FindUnknownField(*message, std::string(path))) {
      return absl::InvalidArgumentError(
          absl::StrCat(*found,
                       ": the body is not this request, or a newer one this server "
                       "does not understand"));
    }
  }
  return absl::OkStatus();
}

}  // namespace perfcast
