#pragma once
// A thin layer over yaml-cpp nodes that knows where each node sits (its
// field path and file:line:column), so every reader error comes out as
// "stems.yaml:7:13: resources.gpu.memory: expected ..., got ...".

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "config/manifest.hpp"

namespace ferry::config::yaml {

class Map;

/// One node with its path ("jobs[0].convert.inputs") and location.
class Field {
 public:
  Field(YAML::Node node, std::string path, SourceLocation where)
      : node_(std::move(node)), path_(std::move(path)), where_(std::move(where)) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const SourceLocation& where() const { return where_; }
  bool is_null() const { return node_.IsNull(); }
  bool is_list() const { return node_.IsSequence(); }

  /// "file:line:col: path: message", with `field` set to the path.
  Error error(std::string_view message, ErrorCode code = ErrorCode::invalid_argument) const;
  /// Places an error from a location-free parser (units, rules) here.
  Error error(const Error& inner) const { return error(inner.message, inner.code); }
  /// "expected <what>, got <what the node is>".
  Error expected(std::string_view what) const;

  /// The text of a scalar; anything else is an error naming `what` was expected.
  Result<std::string> scalar(std::string_view what) const;
  Result<std::string> string() const { return scalar("a string"); }
  Result<bool> boolean() const;
  Result<long long> integer() const;
  /// The scalar's text run through a location-free parser; its errors are placed here.
  template <class Parser>
  auto parsed(std::string_view what, Parser parse) const -> decltype(parse(std::string_view{})) {
    auto text = scalar(what);
    if (!text) return fail(text.error());
    auto value = parse(std::string_view(*text));
    if (!value) return fail(error(value.error()));
    return value;
  }

  /// The elements of a list.
  Result<std::vector<Field>> list(std::string_view what) const;
  /// Element `index` of a list node (for placing errors found later).
  Field item(std::size_t index) const;
  /// The entries of a map whose keys must come from `allowed`; unknown and
  /// duplicate keys are errors. A null node reads as an empty map.
  Result<Map> map(std::span<const std::string_view> allowed) const;
  /// The entries of a map with any keys (still rejecting duplicates).
  Result<Map> any_map(std::string_view what) const;

 private:
  YAML::Node node_;
  std::string path_;
  SourceLocation where_;
};

/// One key of a map with where the key itself sits.
struct Entry {
  std::string key;
  SourceLocation key_where;
  Field value;
};

/// The checked entries of a map, in file order.
class Map {
 public:
  explicit Map(Field self) : self_(std::move(self)) {}
  const Field& self() const { return self_; }
  const std::vector<Entry>& entries() const { return entries_; }
  std::optional<Field> get(std::string_view key) const;
  /// Like get, but a missing key is an error that says what to add (`hint`).
  Result<Field> require(std::string_view key, std::string_view hint) const;

 private:
  friend class Field;
  Field self_;
  std::vector<Entry> entries_;
};

/// Parses one YAML document; syntax errors carry file:line:column. An empty
/// document (or only comments) is a null root.
Result<Field> load_document(std::string_view text, const std::string& file);

}  // namespace ferry::config::yaml
