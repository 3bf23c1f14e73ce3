#pragma once
// Typed reads of provider JSON with messages that say which field of which
// answer was missing or of the wrong type. The first problem is kept; the
// parser checks ok() once after reading what it needs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace ferry::providers {

/// Parses an answer's body as JSON; data_loss "<context>: the answer is not
/// JSON (it starts with "...")" otherwise.
Result<nlohmann::json> parse_json(std::string_view body, std::string_view context);

/// A short, single-line excerpt of a body for messages (at most 200 chars).
std::string excerpt(std::string_view body);

class JsonFields {
 public:
  /// `object` must outlive this reader. A non-object records an error at once.
  JsonFields(const nlohmann::json& object, std::string context);

  /// Required fields: missing, null or of another type record an error.
  std::string text(std::string_view key);
  double number(std::string_view key);
  std::int64_t integer(std::string_view key);
  /// An id sent as a number or as a string of digits/characters; "" on error.
  std::string id(std::string_view key);
  const nlohmann::json& object(std::string_view key);
  const nlohmann::json& array(std::string_view key);

  /// Optional fields: absent or null give nullopt; a wrong type is an error.
  std::optional<std::string> optional_text(std::string_view key);
  std::optional<double> optional_number(std::string_view key);
  std::optional<std::int64_t> optional_integer(std::string_view key);
  std::optional<bool> optional_bool(std::string_view key);
  /// nullptr when absent or null; error when present but not an object.
  const nlohmann::json* optional_object(std::string_view key);
  const nlohmann::json* optional_array(std::string_view key);

  bool ok() const { return !error_; }
  const Error& error() const { return *error_; }
  const std::string& context() const { return context_; }

 private:
  const nlohmann::json* find(std::string_view key, bool required);
  void wrong_type(std::string_view key, std::string_view expected, const nlohmann::json& got);

  const nlohmann::json& object_;
  std::string context_;
  std::optional<Error> error_;
};

/// "string", "number", "null", ... for messages.
std::string json_type_name(const nlohmann::json& value);

}  // namespace ferry::providers

namespace ferry::providers {
/// The human part of an error answer, whatever its shape: a JSON object's
/// "detail", "msg", "message", "error" or "title" (the first that is a
/// string, with a problem-details "errors" list appended), or the body's text.
std::string error_text(std::string_view body);
}  // namespace ferry::providers

namespace ferry::providers {
/// Compact JSON text; invalid UTF-8 in strings is replaced, never thrown.
std::string to_json_text(const nlohmann::json& value);
}  // namespace ferry::providers
