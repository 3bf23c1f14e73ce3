#include "agent/models/acestep/qwen_tokenizer_bpe.hpp"

#include <array>
#include <queue>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ferry::acestep::detail {
namespace {

std::string encode_utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

/// GPT-2's table: printable Latin-1 bytes stand for themselves, the others
/// for 256, 257, ... in byte order.
struct ByteAlphabet {
  std::array<std::string, 256> spelled;
  std::array<int, 324> byte_of_char;  // every stand-in is below 256 + 68

  ByteAlphabet() {
    byte_of_char.fill(-1);
    char32_t next_stand_in = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t c = printable ? static_cast<char32_t>(b) : next_stand_in++;
      spelled[b] = encode_utf8(c);
      byte_of_char[c] = b;
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet table;
  return table;
}

/// A merge that may apply at `pos`: the symbol there and its right
/// neighbour, as they were when it was queued.
struct Candidate {
  std::int32_t rank;
  std::int32_t pos;
  std::int32_t left_id;
  std::int32_t right_id;
  std::int32_t merged_id;
  // Lowest rank first; among equal ranks the leftmost, as the reference does.
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

std::string json_string_or_empty(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : std::string("?");
}

}  // namespace

const std::string& byte_to_unicode(unsigned char byte) { return alphabet().spelled[byte]; }

Result<std::string> unicode_to_bytes(std::string_view spelled) {
  const ByteAlphabet& table = alphabet();
  std::string bytes;
  bytes.reserve(spelled.size());
  for (std::size_t pos = 0; pos < spelled.size();) {
    const auto lead = static_cast<unsigned char>(spelled[pos]);
    char32_t c = 0;
    std::size_t length = 1;
    if (lead < 0x80) {
      c = lead;
    } else if ((lead & 0xE0) == 0xC0 && pos + 1 < spelled.size()) {
      c = ((lead & 0x1F) << 6) | (static_cast<unsigned char>(spelled[pos + 1]) & 0x3F);
      length = 2;
    } else {
      c = 0xFFFF;  // three-byte characters are outside the alphabet
    }
    if (c >= table.byte_of_char.size() || table.byte_of_char[c] < 0) {
      return fail(ErrorCode::data_loss, fmt::format("token \"{}\" is not spelled in the byte-level alphabet", spelled));
    }
    bytes += static_cast<char>(table.byte_of_char[c]);
    pos += length;
  }
  return bytes;
}

Result<nlohmann::json> parse_tokenizer_json(std::string_view text, std::string_view origin, BpeTables& tables) {
  using nlohmann::json;
  using Event = json::parse_event_t;
  // Keys of the enclosing objects by depth: [1] the top-level section,
  // [2] the entry of "model". The tables sit at depth 3 under "model".
  std::string section;
  std::string model_entry;
  std::string vocab_token;
  const auto collect = [&](int depth, Event event, json& parsed) -> bool {
    if (event == Event::key && depth == 1) section = parsed.get<std::string>();
    if (event == Event::key && depth == 2) model_entry = parsed.get<std::string>();
    if (depth != 3 || section != "model") return true;
    if (model_entry == "vocab") {
      if (event == Event::key) {
        vocab_token = parsed.get<std::string>();
        return false;
      }
      if (event == Event::object_start || event == Event::array_start) return true;  // a malformed entry
      const bool valid = parsed.is_number_integer();
      tables.vocab.emplace_back(std::move(vocab_token), valid ? parsed.get<std::int64_t>() : -1);
      return false;
    }
    if (model_entry == "merges" && (event == Event::value || event == Event::array_end)) {
      if (parsed.is_array() && parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_string()) {
        tables.merges.emplace_back(parsed[0].get<std::string>(), parsed[1].get<std::string>());
      } else if (const std::string* text = parsed.get_ptr<const std::string*>(); text && text->find(' ') != std::string::npos) {
        // The older "left right" form; byte-level tokens never hold a space.
        tables.merges.emplace_back(text->substr(0, text->find(' ')), text->substr(text->find(' ') + 1));
      } else {
        if (tables.first_malformed_merge < 0) tables.first_malformed_merge = static_cast<std::int64_t>(tables.merges.size());
        tables.merges.emplace_back();
      }
      return false;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), collect);
  } catch (const json::exception& e) {
    return fail(ErrorCode::data_loss, fmt::format("{}: not valid JSON ({})", origin, e.what()));
  }
}

Result<BpeModel> BpeModel::build(const nlohmann::json& model, BpeTables tables) {
  const auto bad = [](const std::string& what) {
    return fail(ErrorCode::unsupported, "tokenizer.json: the BPE model " + what);
  };
  if (!model.is_object() || model.value("type", std::string()) != "BPE") return bad("section is missing or not of type BPE");
  if (model.contains("dropout") && !model["dropout"].is_null()) return bad("uses dropout; only deterministic BPE is supported");
  if (model.value("byte_fallback", false)) return bad("uses byte fallback, which byte-level BPE does not need");
  if (model.value("ignore_merges", false)) return bad("sets ignore_merges, which this tokenizer does not follow");
  if (!json_string_or_empty(model, "continuing_subword_prefix").empty() ||
      !json_string_or_empty(model, "end_of_word_suffix").empty()) {
    return bad("uses subword affixes, which byte-level BPE does not have");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object() || tables.vocab.empty()) return bad("has no \"vocab\" object");
  if (!model.contains("merges") || !model["merges"].is_array()) return bad("has no \"merges\" array");
  if (tables.first_malformed_merge >= 0) return bad(fmt::format("has a malformed merge at rank {}", tables.first_malformed_merge));

  BpeModel out;
  out.ids_.reserve(tables.vocab.size());
  for (auto& [spelled, id] : tables.vocab) {
    if (id < 0 || id > 10'000'000) return bad(fmt::format("gives token \"{}\" an invalid id", spelled));
    auto bytes = unicode_to_bytes(spelled);
    if (!bytes) return fail(bytes.error());
    if (static_cast<std::size_t>(id) >= out.tokens_.size()) out.tokens_.resize(static_cast<std::size_t>(id) + 1);
    out.tokens_[static_cast<std::size_t>(id)] = *bytes;
    out.ids_.emplace(std::move(*bytes), static_cast<std::int32_t>(id));
  }
  for (int b = 0; b < 256; ++b) {
    out.byte_ids_[b] = out.id_of(std::string(1, static_cast<char>(b)));
    if (out.byte_ids_[b] < 0) return bad(fmt::format("has no token for byte 0x{:02X}", b));
  }

  out.merges_.reserve(tables.merges.size());
  std::string merged;
  for (std::size_t rank = 0; rank < tables.merges.size(); ++rank) {
    const auto& [left_spelled, right_spelled] = tables.merges[rank];
    auto left = unicode_to_bytes(left_spelled);
    auto right = unicode_to_bytes(right_spelled);
    if (!left || !right) return fail(!left ? left.error() : right.error());
    merged.assign(*left).append(*right);
    const std::int32_t left_id = out.id_of(*left);
    const std::int32_t right_id = out.id_of(*right);
    const std::int32_t merged_id = out.id_of(merged);
    if (left_id < 0 || right_id < 0 || merged_id < 0) {
      return bad(fmt::format("merge \"{} {}\" (rank {}) names tokens missing from the vocabulary", left_spelled,
                             right_spelled, rank));
    }
    out.merges_.try_emplace(pair_key(left_id, right_id), Merge{static_cast<std::int32_t>(rank), merged_id});
  }
  return out;
}

std::int32_t BpeModel::id_of(std::string_view bytes) const {
  const auto it = ids_.find(bytes);
  return it == ids_.end() ? -1 : it->second;
}

const std::string& BpeModel::bytes_of(std::int32_t id) const {
  static const std::string none;
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) return none;
  return tokens_[static_cast<std::size_t>(id)];
}

void BpeModel::encode_piece(std::string_view bytes, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;  // -1 once merged into its left neighbour
    std::int32_t prev;
    std::int32_t next;
  };
  const auto n = static_cast<std::int32_t>(bytes.size());
  std::vector<Symbol> symbols(bytes.size());
  for (std::int32_t i = 0; i < n; ++i) {
    symbols[i] = {byte_ids_[static_cast<unsigned char>(bytes[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto consider = [&](std::int32_t pos) {
    if (pos < 0 || symbols[pos].next < 0) return;
    const Symbol& left = symbols[pos];
    const std::int32_t right_id = symbols[left.next].id;
    const auto it = merges_.find(pair_key(left.id, right_id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, left.id, right_id, it->second.merged_id});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate best = queue.top();
    queue.pop();
    Symbol& left = symbols[best.pos];
    // A symbol only ever grows, so an unchanged id means the same pair.
    if (left.id != best.left_id || left.next < 0 || symbols[left.next].id != best.right_id) continue;
    Symbol& right = symbols[left.next];
    left.id = best.merged_id;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = best.pos;
    consider(left.prev);
    consider(best.pos);
  }
  for (std::int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace ferry::acestep::detail
