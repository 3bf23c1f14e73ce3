#pragma once
// Qwen's byte-level BPE tokenizer (Qwen2/Qwen3, as the Qwen3-Embedding text
// encoder of ACE-Step uses it), read from a checkpoint's tokenizer.json.
// Encoding follows the Hugging Face pipeline step by step: added tokens are
// cut out of the raw text, each remaining stretch is NFC-normalised, split
// with Qwen's pattern, mapped to bytes and merged by BPE rank; then the
// post-processor's template (if any, e.g. a trailing <|endoftext|>) is applied.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ferry::acestep {

/// How one text is turned into ids.
struct EncodeOptions {
  /// Apply the post-processor's template (Hugging Face's add_special_tokens).
  bool add_special_tokens = true;
  /// Keep at most this many ids, template tokens included, cutting the text's
  /// own tokens from the end as Hugging Face's truncation does; 0 keeps all.
  std::size_t max_length = 0;
};

/// A loaded tokenizer. Immutable after loading apart from an internal cache;
/// encode may be called from several threads at once. Movable, not copyable.
class QwenTokenizer {
 public:
  /// Reads `folder`/tokenizer.json. Fails with not_found when the file is
  /// missing, data_loss when it is malformed, and unsupported when it asks
  /// for a normaliser, pattern or post-processor other than Qwen's.
  static Result<QwenTokenizer> load(const std::filesystem::path& folder);
  /// The same from the file's text; `origin` names it in error messages.
  static Result<QwenTokenizer> from_json_text(std::string_view json_text, std::string_view origin);

  QwenTokenizer(QwenTokenizer&&) noexcept;
  QwenTokenizer& operator=(QwenTokenizer&&) noexcept;
  ~QwenTokenizer();

  /// The ids of UTF-8 `text`. Fails with invalid_argument when the text is not
  /// valid UTF-8.
  Result<std::vector<std::int32_t>> encode(std::string_view text, const EncodeOptions& options = {}) const;

  /// The text of `ids` (added tokens spelled out), with bytes that do not
  /// form whole UTF-8 characters replaced by U+FFFD. Fails on an unknown id.
  Result<std::string> decode(const std::vector<std::int32_t>& ids) const;

  /// The id of a token given as text ("<|endoftext|>", "hello"), or -1.
  std::int32_t token_id(std::string_view token) const;

  /// One past the largest id, added tokens included (151 669 for Qwen3).
  std::size_t vocab_size() const;

 private:
  struct Impl;
  explicit QwenTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::acestep
