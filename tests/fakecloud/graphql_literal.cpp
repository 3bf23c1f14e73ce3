#include <cctype>

#include "tests/fakecloud/handlers.hpp"

namespace ferry::fakecloud {
namespace {

void skip_space(std::string_view text, std::size_t& at) {
  while (at < text.size() && (std::isspace(static_cast<unsigned char>(text[at])) || text[at] == ',')) ++at;
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at < path.size()) {
    auto next = path.find('/', at);
    if (next == std::string_view::npos) next = path.size();
    if (next > at) parts.emplace_back(path.substr(at, next - at));
    at = next + 1;
  }
  return parts;
}

std::optional<nlohmann::json> parse_graphql_value(std::string_view text, std::size_t& at) {
  skip_space(text, at);
  if (at >= text.size()) return std::nullopt;
  char c = text[at];
  if (c == '{') {
    nlohmann::json object = nlohmann::json::object();
    ++at;
    for (;;) {
      skip_space(text, at);
      if (at < text.size() && text[at] == '}') {
        ++at;
        return object;
      }
      std::size_t start = at;
      while (at < text.size() && is_name_char(text[at])) ++at;
      if (at == start) return std::nullopt;
      std::string key(text.substr(start, at - start));
      skip_space(text, at);
      if (at >= text.size() || text[at] != ':') return std::nullopt;
      ++at;
      auto value = parse_graphql_value(text, at);
      if (!value) return std::nullopt;
      object[key] = *value;
    }
  }
  if (c == '[') {
    nlohmann::json array = nlohmann::json::array();
    ++at;
    for (;;) {
      skip_space(text, at);
      if (at < text.size() && text[at] == ']') {
        ++at;
        return array;
      }
      auto value = parse_graphql_value(text, at);
      if (!value) return std::nullopt;
      array.push_back(*value);
    }
  }
  if (c == '"') {
    std::size_t start = at++;
    while (at < text.size() && text[at] != '"') at += text[at] == '\\' ? 2 : 1;
    if (at >= text.size()) return std::nullopt;
    ++at;
    auto parsed = nlohmann::json::parse(text.substr(start, at - start), nullptr, false);
    if (parsed.is_discarded()) return std::nullopt;
    return parsed;
  }
  std::size_t start = at;
  while (at < text.size() && (is_name_char(text[at]) || text[at] == '-' || text[at] == '.' || text[at] == '+')) ++at;
  if (at == start) return std::nullopt;
  std::string word(text.substr(start, at - start));
  if (word == "true") return nlohmann::json(true);
  if (word == "false") return nlohmann::json(false);
  if (word == "null") return nlohmann::json(nullptr);
  auto number = nlohmann::json::parse(word, nullptr, false);
  if (!number.is_discarded() && number.is_number()) return number;
  if (std::isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-') return std::nullopt;
  return nlohmann::json(word);  // an enum value
}

std::optional<nlohmann::json> graphql_input(std::string_view document, std::string_view field) {
  auto at = document.find(field);
  if (at == std::string_view::npos) return std::nullopt;
  at = document.find("input", at + field.size());
  if (at == std::string_view::npos) return std::nullopt;
  at = document.find(':', at);
  if (at == std::string_view::npos) return std::nullopt;
  ++at;
  return parse_graphql_value(document, at);
}

}  // namespace ferry::fakecloud
