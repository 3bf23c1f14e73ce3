#pragma once
// Shared by the tokenizer and prompt tests: the fixture checkpoint's
// tokenizer (loaded once per test program: parsing 11 MB of JSON is the
// slowest step of these tests) and the fixture's recorded prompts.

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/models/acestep/qwen_tokenizer.hpp"

namespace ferry::acestep::testing {

inline std::filesystem::path acestep_fixtures() { return std::filesystem::path(FERRY_FIXTURES_DIR) / "acestep"; }

inline std::filesystem::path tokenizer_folder() {
  return acestep_fixtures() / "checkpoint_tiny" / "Qwen3-Embedding-0.6B";
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

/// text_encoder/fixture.json's "tokens": caption, lyrics and instrumental,
/// each with its text and ids.
inline nlohmann::json fixture_prompts() { return read_json(acestep_fixtures() / "text_encoder" / "fixture.json").at("tokens"); }

inline const QwenTokenizer& checkpoint_tokenizer() {
  static const std::unique_ptr<QwenTokenizer> tokenizer = [] {
    auto loaded = QwenTokenizer::load(tokenizer_folder());
    if (!loaded) throw std::runtime_error("cannot load the fixture tokenizer: " + loaded.error().describe());
    return std::make_unique<QwenTokenizer>(std::move(*loaded));
  }();
  return *tokenizer;
}

}  // namespace ferry::acestep::testing
