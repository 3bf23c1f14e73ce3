#include "providers/json_fields.hpp"

#include <cmath>

namespace ferry::providers {
namespace {
const nlohmann::json kNull;
const nlohmann::json kEmptyObject = nlohmann::json::object();
const nlohmann::json kEmptyArray = nlohmann::json::array();
}  // namespace

std::string excerpt(std::string_view body) {
  std::string shown;
  for (char c : body.substr(0, 200)) shown += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > 200) shown += "...";
  return shown;
}

Result<nlohmann::json> parse_json(std::string_view body, std::string_view context) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return fail(ErrorCode::data_loss,
                std::string(context) + ": the answer is not JSON (it starts with \"" + excerpt(body) + "\")");
  return parsed;
}

std::string json_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

JsonFields::JsonFields(const nlohmann::json& object, std::string context)
    : object_(object), context_(std::move(context)) {
  if (!object_.is_object())
    error_ = Error{ErrorCode::data_loss, context_ + ": expected a JSON object, got " + json_type_name(object_), ""};
}

const nlohmann::json* JsonFields::find(std::string_view key, bool required) {
  if (error_ && !object_.is_object()) return nullptr;
  auto found = object_.find(key);
  if (found == object_.end() || found->is_null()) {
    if (required && !error_)
      error_ = Error{ErrorCode::data_loss,
                     context_ + ": field '" + std::string(key) + "' is " +
                         (found == object_.end() ? "missing" : "null"),
                     std::string(key)};
    return nullptr;
  }
  return &*found;
}

void JsonFields::wrong_type(std::string_view key, std::string_view expected, const nlohmann::json& got) {
  if (error_) return;
  error_ = Error{ErrorCode::data_loss,
                 context_ + ": field '" + std::string(key) + "' should be " + std::string(expected) + ", got " +
                     json_type_name(got) + " " + excerpt(got.dump()),
                 std::string(key)};
}

std::string JsonFields::text(std::string_view key) {
  auto value = optional_text(key);
  if (!value && ok()) find(key, true);
  return value.value_or("");
}

double JsonFields::number(std::string_view key) {
  auto value = optional_number(key);
  if (!value && ok()) find(key, true);
  return value.value_or(0);
}

std::int64_t JsonFields::integer(std::string_view key) {
  auto value = optional_integer(key);
  if (!value && ok()) find(key, true);
  return value.value_or(0);
}

std::string JsonFields::id(std::string_view key) {
  const auto* value = find(key, true);
  if (!value) return {};
  if (value->is_number_integer()) return std::to_string(value->get<std::int64_t>());
  if (value->is_string() && !value->get_ref<const std::string&>().empty()) return value->get<std::string>();
  wrong_type(key, "an id (a whole number or a non-empty string)", *value);
  return {};
}

const nlohmann::json& JsonFields::object(std::string_view key) {
  const auto* value = find(key, true);
  if (!value) return kEmptyObject;
  if (!value->is_object()) {
    wrong_type(key, "an object", *value);
    return kEmptyObject;
  }
  return *value;
}

const nlohmann::json& JsonFields::array(std::string_view key) {
  const auto* value = find(key, true);
  if (!value) return kEmptyArray;
  if (!value->is_array()) {
    wrong_type(key, "an array", *value);
    return kEmptyArray;
  }
  return *value;
}

std::optional<std::string> JsonFields::optional_text(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    wrong_type(key, "a string", *value);
    return std::nullopt;
  }
  return value->get<std::string>();
}

std::optional<double> JsonFields::optional_number(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return std::nullopt;
  if (!value->is_number() || !std::isfinite(value->get<double>())) {
    wrong_type(key, "a number", *value);
    return std::nullopt;
  }
  return value->get<double>();
}

std::optional<std::int64_t> JsonFields::optional_integer(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) return value->get<std::int64_t>();
  if (value->is_number_float()) {
    double number = value->get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15)
      return static_cast<std::int64_t>(number);
  }
  wrong_type(key, "a whole number", *value);
  return std::nullopt;
}

std::optional<bool> JsonFields::optional_bool(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    wrong_type(key, "a boolean", *value);
    return std::nullopt;
  }
  return value->get<bool>();
}

const nlohmann::json* JsonFields::optional_object(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return nullptr;
  if (!value->is_object()) {
    wrong_type(key, "an object", *value);
    return nullptr;
  }
  return value;
}

const nlohmann::json* JsonFields::optional_array(std::string_view key) {
  const auto* value = find(key, false);
  if (!value) return nullptr;
  if (!value->is_array()) {
    wrong_type(key, "an array", *value);
    return nullptr;
  }
  return value;
}

}  // namespace ferry::providers

namespace ferry::providers {
std::string error_text(std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    std::string text;
    for (const char* key : {"detail", "msg", "message", "error", "title"}) {
      auto found = parsed.find(key);
      if (found != parsed.end() && found->is_string() && !found->get_ref<const std::string&>().empty()) {
        text = found->get<std::string>();
        break;
      }
    }
    auto errors = parsed.find("errors");
    if (errors != parsed.end() && errors->is_array())
      for (const auto& item : *errors)
        if (item.is_string()) text += (text.empty() ? "" : "; ") + item.get<std::string>();
    if (!text.empty()) return excerpt(text);
  }
  return excerpt(body);
}
}  // namespace ferry::providers

namespace ferry::providers {
std::string to_json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace ferry::providers
