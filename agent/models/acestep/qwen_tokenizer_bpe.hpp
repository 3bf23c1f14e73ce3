#pragma once
// The byte-level BPE model of a Qwen tokenizer.json: vocabulary and merges
// held as raw bytes, so that encoding never goes through the byte-to-unicode
// alphabet the file spells them in.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace ferry::acestep::detail {

/// GPT-2's printable stand-in for each byte, as UTF-8 ("Ġ" for a space).
const std::string& byte_to_unicode(unsigned char byte);

/// Turns a token spelled in the byte-to-unicode alphabet back into its bytes;
/// fails on a character outside that alphabet.
Result<std::string> unicode_to_bytes(std::string_view spelled);

/// Hash of std::string keys that also finds std::string_view ones, so that
/// lookups need no temporary string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

/// The model's vocabulary and merges as the file spells them, gathered while
/// parsing (they are most of tokenizer.json's 11 MB).
struct BpeTables {
  std::vector<std::pair<std::string, std::int64_t>> vocab;  // id -1: not an integer
  std::vector<std::pair<std::string, std::string>> merges;  // by rank
  std::int64_t first_malformed_merge = -1;
};

/// Parses tokenizer.json, moving "model.vocab" and "model.merges" into
/// `tables` instead of the returned document (left as empty containers).
/// Fails with data_loss on malformed JSON; `origin` names the file.
Result<nlohmann::json> parse_tokenizer_json(std::string_view text, std::string_view origin, BpeTables& tables);

/// Vocabulary and ranked merges of a "BPE" model section.
class BpeModel {
 public:
  /// Builds the model from tokenizer.json's "model" object and its tables;
  /// rejects options this implementation does not follow (dropout, byte
  /// fallback, affixes) and merges of tokens missing from the vocabulary.
  static Result<BpeModel> build(const nlohmann::json& model, BpeTables tables);

  /// Appends the ids of one pre-tokenized piece (raw bytes, non-empty).
  void encode_piece(std::string_view bytes, std::vector<std::int32_t>& out) const;

  /// The id of a token given as raw bytes, or -1.
  std::int32_t id_of(std::string_view bytes) const;
  /// Number of ids the model itself defines (0 .. size()-1 may have gaps).
  std::size_t size() const { return tokens_.size(); }
  /// The raw bytes of an id of the model; empty for ids it does not define.
  const std::string& bytes_of(std::int32_t id) const;

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t merged_id;
  };
  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }

  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> ids_;
  std::vector<std::string> tokens_;
  std::int32_t byte_ids_[256] = {};
  std::unordered_map<std::uint64_t, Merge> merges_;
};

}  // namespace ferry::acestep::detail
