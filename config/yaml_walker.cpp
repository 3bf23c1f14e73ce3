#include "config/yaml_walker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "config/suggest.hpp"

namespace ferry::config::yaml {
namespace {

std::string child_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

// yaml-cpp marks are 0-based; a node built without a position has a null mark.
SourceLocation location_of(const YAML::Node& node, const SourceLocation& fallback) {
  auto mark = node.Mark();
  if (mark.is_null()) return fallback;
  return SourceLocation{fallback.file, mark.line + 1, mark.column + 1};
}

SourceLocation location_of(const YAML::Mark& mark, const std::string& file) {
  return SourceLocation{file, mark.is_null() ? 1 : mark.line + 1, mark.is_null() ? 1 : mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
      return node.size() == 0 ? "an empty map" : "a map";
    case YAML::NodeType::Scalar: {
      auto text = node.Scalar();
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      return fmt::format("\"{}\"", text);
    }
    default:
      return "an undefined value";
  }
}

// yaml-cpp's messages for tab indentation ("illegal block entry") do not say
// that the tab is the problem.
bool indented_with_tab(std::string_view text, const YAML::Mark& mark) {
  if (mark.is_null()) return false;
  std::size_t line_start = 0;
  for (int line = 0; line < mark.line && line_start != std::string_view::npos; ++line) {
    line_start = text.find('\n', line_start);
    if (line_start != std::string_view::npos) ++line_start;
  }
  if (line_start == std::string_view::npos) return false;
  auto line = text.substr(line_start, text.find('\n', line_start) - line_start);
  auto indent = line.substr(0, line.find_first_not_of(" \t"));
  return indent.find('\t') != std::string_view::npos;
}

}  // namespace

Error Field::error(std::string_view message, ErrorCode code) const {
  auto prefix = where_.to_string();
  if (path_.empty()) return Error{code, fmt::format("{}: {}", prefix, message), {}};
  return Error{code, fmt::format("{}: {}: {}", prefix, path_, message), path_};
}

Error Field::expected(std::string_view what) const {
  return error(fmt::format("expected {}, got {}", what, describe(node_)));
}

Result<std::string> Field::scalar(std::string_view what) const {
  if (!node_.IsScalar()) return fail(expected(what));
  return node_.Scalar();
}

Result<bool> Field::boolean() const {
  // YAML 1.2's core schema: yes/no/on/off are strings there, so they are
  // refused rather than guessed.
  static constexpr std::array<std::string_view, 3> kTrue{"true", "True", "TRUE"};
  static constexpr std::array<std::string_view, 3> kFalse{"false", "False", "FALSE"};
  auto text = scalar("true or false");
  if (!text) return fail(text.error());
  if (std::find(kTrue.begin(), kTrue.end(), *text) != kTrue.end()) return true;
  if (std::find(kFalse.begin(), kFalse.end(), *text) != kFalse.end()) return false;
  return fail(expected("true or false"));
}

Result<long long> Field::integer() const {
  auto text = scalar("an integer");
  if (!text) return fail(text.error());
  long long value = 0;
  auto [end, error_code] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error_code == std::errc::result_out_of_range)
    return fail(error(fmt::format("integer {} is out of range", *text)));
  if (error_code != std::errc{} || end != text->data() + text->size()) return fail(expected("an integer"));
  return value;
}

Result<std::vector<Field>> Field::list(std::string_view what) const {
  if (!node_.IsSequence()) return fail(expected(what));
  std::vector<Field> items;
  for (std::size_t i = 0; i < node_.size(); ++i) items.push_back(item(i));
  return items;
}

Field Field::item(std::size_t index) const {
  YAML::Node element = node_[index];
  return Field(element, fmt::format("{}[{}]", path_, index), location_of(element, where_));
}

Result<Map> Field::any_map(std::string_view what) const {
  Map map(*this);
  if (node_.IsNull()) return map;
  if (!node_.IsMap()) return fail(expected(what));
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    // Copies, not references: yaml-cpp's iterator hands out a temporary pair.
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    auto key_where = location_of(key, where_);
    if (!key.IsScalar())
      return fail(Field(key, path_, key_where).error(fmt::format("expected a plain key, got {}", describe(key))));
    std::string name = key.Scalar();
    // yaml-cpp keeps duplicate keys and lookups see only the first, so a
    // repeated key would silently lose the user's second value.
    for (const auto& seen : map.entries_)
      if (seen.key == name)
        return fail(
            Field(key, child_path(path_, name), key_where)
                .error(fmt::format("duplicate key '{}' (first given at {})", name, seen.key_where.to_string())));
    // A key with no value ("gpu:") has no useful position of its own.
    auto value_where = value.IsNull() ? key_where : location_of(value, key_where);
    map.entries_.push_back(Entry{name, key_where, Field(value, child_path(path_, name), value_where)});
  }
  return map;
}

Result<Map> Field::map(std::span<const std::string_view> allowed) const {
  auto map = any_map(fmt::format("a map with keys {}", join_names(allowed)));
  if (!map) return map;
  for (const auto& entry : map->entries()) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    return fail(Field(entry.value.node(), entry.value.path(), entry.key_where)
                    .error(unknown_name_message("key", entry.key, allowed)));
  }
  return map;
}

std::optional<Field> Map::get(std::string_view key) const {
  for (const auto& entry : entries_)
    if (entry.key == key) return entry.value;
  return std::nullopt;
}

Result<Field> Map::require(std::string_view key, std::string_view hint) const {
  if (auto field = get(key)) return *field;
  return fail(
      Field(YAML::Node(), child_path(self_.path(), key), self_.where()).error(fmt::format("missing; {}", hint)));
}

Result<Field> load_document(std::string_view text, const std::string& file) {
  try {
    auto documents = YAML::LoadAll(std::string(text));
    if (documents.size() > 1)
      return fail(Field(documents[1], "", location_of(documents[1], SourceLocation{file, 1, 1}))
                      .error("expected one YAML document, found a second one; remove the extra '---'"));
    YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
    return Field(root, "", location_of(root, SourceLocation{file, 1, 1}));
  } catch (const YAML::DeepRecursion& error) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{}: YAML nested too deeply", location_of(error.mark, file).to_string()));
  } catch (const YAML::ParserException& error) {
    return fail(
        ErrorCode::invalid_argument,
        fmt::format("{}: YAML syntax error: {}{}", location_of(error.mark, file).to_string(), error.msg,
                    indented_with_tab(text, error.mark) ? " (indent with spaces: YAML does not allow tabs)" : ""));
  } catch (const YAML::Exception& error) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{}: cannot read YAML: {}", location_of(error.mark, file).to_string(), error.msg));
  }
}

}  // namespace ferry::config::yaml
