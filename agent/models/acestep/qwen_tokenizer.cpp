#include "agent/models/acestep/qwen_tokenizer.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/models/acestep/qwen_tokenizer_bpe.hpp"
#include "agent/models/acestep/qwen_tokenizer_split.hpp"
#include "common/files.hpp"

namespace ferry::acestep {
namespace {

using nlohmann::json;

/// A token matched in the raw text before any normalisation.
struct AddedToken {
  std::string content;
  std::int32_t id;
};

/// The ids the post-processor puts around one sequence.
struct Template {
  std::vector<std::int32_t> before;
  std::vector<std::int32_t> after;
};

// Pieces longer than this are rare and seldom repeat; caching them only
// costs memory.
constexpr std::size_t kMaxCachedPieceBytes = 256;
constexpr std::size_t kMaxCachedPieces = 100'000;

tl::unexpected<Error> unsupported(std::string_view origin, const std::string& what) {
  return fail(ErrorCode::unsupported, fmt::format("{}: {}; only Qwen's byte-level BPE tokenizer is supported", origin, what));
}

Result<bool> read_normalizer(const json& normalizer, std::string_view origin) {
  if (normalizer.is_null()) return false;
  const std::string type = normalizer.value("type", std::string());
  if (type == "NFC") return true;
  if (type == "Sequence" && normalizer.contains("normalizers") && normalizer["normalizers"].is_array()) {
    bool any = false;
    for (const json& step : normalizer["normalizers"]) {
      auto nfc = read_normalizer(step, origin);
      if (!nfc) return nfc;
      any = any || *nfc;
    }
    return any;
  }
  return unsupported(origin, fmt::format("normalizer \"{}\"", type));
}

Status check_pre_tokenizer(const json& pre, std::string_view origin) {
  const auto steps = pre.is_object() ? pre.find("pretokenizers") : pre.end();
  if (!pre.is_object() || pre.value("type", std::string()) != "Sequence" || steps == pre.end() || !steps->is_array() ||
      steps->size() != 2) {
    return unsupported(origin, "the pre-tokenizer is not the Split + ByteLevel sequence of Qwen");
  }
  const json& split = (*steps)[0];
  const json& byte_level = (*steps)[1];
  const bool split_ok = split.value("type", std::string()) == "Split" && split.contains("pattern") &&
                        split["pattern"].is_object() &&
                        split["pattern"].value("Regex", std::string()) == detail::kQwenSplitPattern &&
                        split.value("behavior", std::string()) == "Isolated" && !split.value("invert", false);
  if (!split_ok) return unsupported(origin, "the pre-tokenizer's split pattern differs from Qwen's");
  const bool byte_level_ok = byte_level.value("type", std::string()) == "ByteLevel" &&
                             !byte_level.value("add_prefix_space", false) && !byte_level.value("use_regex", true);
  if (!byte_level_ok) return unsupported(origin, "the pre-tokenizer's ByteLevel step adds a prefix space or its own regex");
  return {};
}

Result<std::vector<AddedToken>> read_added_tokens(const json& added, std::string_view origin) {
  std::vector<AddedToken> out;
  if (added.is_null()) return out;
  if (!added.is_array()) return fail(ErrorCode::data_loss, fmt::format("{}: \"added_tokens\" is not an array", origin));
  for (const json& token : added) {
    if (!token.is_object() || !token.contains("content") || !token["content"].is_string() || !token.contains("id") ||
        !token["id"].is_number_integer() || token["id"].get<std::int64_t>() < 0) {
      return fail(ErrorCode::data_loss, fmt::format("{}: an added token lacks a content or a valid id", origin));
    }
    std::string content = token["content"].get<std::string>();
    if (content.empty()) return fail(ErrorCode::data_loss, fmt::format("{}: an added token is empty", origin));
    if (token.value("lstrip", false) || token.value("rstrip", false) || token.value("single_word", false)) {
      return unsupported(origin, fmt::format("added token \"{}\" strips spaces or matches whole words only", content));
    }
    out.push_back({std::move(content), static_cast<std::int32_t>(token["id"].get<std::int64_t>())});
  }
  // Longest first, so that matching picks the longest token at a position.
  std::stable_sort(out.begin(), out.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  return out;
}

}  // namespace

struct QwenTokenizer::Impl {
  detail::BpeModel bpe;
  bool normalize_nfc = false;
  std::vector<AddedToken> added;  // longest first
  bool may_start_added[256] = {};  // first bytes of added tokens: a cheap pre-check
  std::unordered_map<std::string, std::int32_t, detail::StringHash, std::equal_to<>> added_ids;
  std::unordered_map<std::int32_t, std::string> added_contents;
  Template single;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, detail::StringHash, std::equal_to<>> cache;

  std::int32_t id_of_text(std::string_view token) const {
    const auto it = added_ids.find(token);
    return it != added_ids.end() ? it->second : bpe.id_of(token);
  }

  Status read_post_processor(const json& post, std::string_view origin, bool& has_template) {
    if (post.is_null()) return {};
    const std::string type = post.value("type", std::string());
    if (type == "ByteLevel") return {};  // offsets only; ids unchanged
    if (type == "Sequence" && post.contains("processors") && post["processors"].is_array()) {
      for (const json& step : post["processors"]) {
        if (auto status = read_post_processor(step, origin, has_template); !status) return status;
      }
      return {};
    }
    if (type != "TemplateProcessing") return unsupported(origin, fmt::format("post-processor \"{}\"", type));
    if (has_template) return unsupported(origin, "more than one TemplateProcessing post-processor");
    has_template = true;
    const auto single_it = post.find("single");
    if (single_it == post.end() || !single_it->is_array()) {
      return fail(ErrorCode::data_loss, fmt::format("{}: the TemplateProcessing has no \"single\" template", origin));
    }
    const json special_tokens = post.value("special_tokens", json::object());
    bool seen_sequence = false;
    for (const json& piece : *single_it) {
      if (piece.contains("Sequence")) {
        if (seen_sequence || piece["Sequence"].value("id", std::string()) != "A") {
          return unsupported(origin, "a single-sequence template that is not one sequence \"A\"");
        }
        seen_sequence = true;
        continue;
      }
      const std::string name = piece.contains("SpecialToken") ? piece["SpecialToken"].value("id", std::string()) : "";
      if (name.empty()) return fail(ErrorCode::data_loss, fmt::format("{}: a template piece is malformed", origin));
      std::vector<std::int32_t> ids;
      if (special_tokens.contains(name) && special_tokens[name].contains("ids") && special_tokens[name]["ids"].is_array()) {
        for (const json& id : special_tokens[name]["ids"]) {
          if (!id.is_number_integer()) {
            return fail(ErrorCode::data_loss, fmt::format("{}: template token \"{}\" has a bad id", origin, name));
          }
          ids.push_back(id.get<std::int32_t>());
        }
      } else if (const std::int32_t id = id_of_text(name); id >= 0) {
        ids.push_back(id);
      } else {
        return fail(ErrorCode::data_loss, fmt::format("{}: template token \"{}\" is not in the vocabulary", origin, name));
      }
      auto& side = seen_sequence ? single.after : single.before;
      side.insert(side.end(), ids.begin(), ids.end());
    }
    if (!seen_sequence) return unsupported(origin, "a single-sequence template without the sequence");
    return {};
  }

  /// Appends the ids of a stretch of text that holds no added token.
  Status encode_plain(std::string_view text, std::vector<std::int32_t>& ids) const {
    std::string normalized;
    if (normalize_nfc) {
      auto composed = detail::nfc(text);
      if (!composed) return fail(composed.error());
      normalized = std::move(*composed);
      text = normalized;
    }
    for (const std::string_view piece : detail::split_qwen_pieces(text)) {
      const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
      if (cacheable) {
        const std::lock_guard lock(cache_mutex);
        if (const auto it = cache.find(piece); it != cache.end()) {
          ids.insert(ids.end(), it->second.begin(), it->second.end());
          continue;
        }
      }
      const std::size_t first = ids.size();
      bpe.encode_piece(piece, ids);
      if (cacheable) {
        const std::lock_guard lock(cache_mutex);
        if (cache.size() >= kMaxCachedPieces) cache.clear();
        cache.emplace(std::string(piece), std::vector<std::int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end()));
      }
    }
    return {};
  }

  /// The added token that starts at `pos` (the longest), or null.
  const AddedToken* added_token_at(std::string_view text, std::size_t pos) const {
    if (!may_start_added[static_cast<unsigned char>(text[pos])]) return nullptr;
    for (const AddedToken& token : added) {
      if (text.compare(pos, token.content.size(), token.content) == 0) return &token;
    }
    return nullptr;
  }
};

QwenTokenizer::QwenTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QwenTokenizer::QwenTokenizer(QwenTokenizer&&) noexcept = default;
QwenTokenizer& QwenTokenizer::operator=(QwenTokenizer&&) noexcept = default;
QwenTokenizer::~QwenTokenizer() = default;

Result<QwenTokenizer> QwenTokenizer::load(const std::filesystem::path& folder) {
  const std::filesystem::path file = folder / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return fail(ErrorCode::not_found,
                fmt::format("no tokenizer.json in {}; point to the text encoder's folder (Qwen3-Embedding-0.6B)",
                            folder.string()),
                file.string());
  }
  auto text = read_file(file);
  if (!text) return fail(text.error());
  return from_json_text(*text, file.string());
}

Result<QwenTokenizer> QwenTokenizer::from_json_text(std::string_view json_text, std::string_view origin) {
  detail::BpeTables tables;
  auto parsed = detail::parse_tokenizer_json(json_text, origin, tables);
  if (!parsed) return fail(parsed.error());
  const json& root = *parsed;
  if (!root.is_object()) return fail(ErrorCode::data_loss, fmt::format("{}: not a JSON object", origin));

  auto impl = std::make_unique<Impl>();
  try {
    auto bpe = detail::BpeModel::build(root.value("model", json()), std::move(tables));
    if (!bpe) return fail(Error{bpe.error().code, fmt::format("{}: {}", origin, bpe.error().message), std::string(origin)});
    impl->bpe = std::move(*bpe);
    auto nfc = read_normalizer(root.value("normalizer", json()), origin);
    if (!nfc) return fail(nfc.error());
    impl->normalize_nfc = *nfc;
    if (auto status = check_pre_tokenizer(root.value("pre_tokenizer", json()), origin); !status) return fail(status.error());
    auto added = read_added_tokens(root.value("added_tokens", json()), origin);
    if (!added) return fail(added.error());
    impl->added = std::move(*added);
    for (const AddedToken& token : impl->added) {
      impl->added_ids.emplace(token.content, token.id);
      impl->added_contents.emplace(token.id, token.content);
      impl->may_start_added[static_cast<unsigned char>(token.content.front())] = true;
    }
    bool has_template = false;
    if (auto status = impl->read_post_processor(root.value("post_processor", json()), origin, has_template); !status) {
      return fail(status.error());
    }
  } catch (const json::exception& e) {
    // A value of the wrong JSON type somewhere the checks above did not look.
    return fail(ErrorCode::data_loss, fmt::format("{}: unexpected structure ({})", origin, e.what()));
  }
  return QwenTokenizer(std::move(impl));
}

Result<std::vector<std::int32_t>> QwenTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (auto valid = detail::check_utf8(text); !valid) return fail(valid.error());
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::size_t plain_start = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const AddedToken* token = impl_->added_token_at(text, pos);
    if (token == nullptr) {
      ++pos;
      continue;
    }
    if (auto status = impl_->encode_plain(text.substr(plain_start, pos - plain_start), ids); !status) {
      return fail(status.error());
    }
    ids.push_back(token->id);
    pos += token->content.size();
    plain_start = pos;
  }
  if (auto status = impl_->encode_plain(text.substr(plain_start), ids); !status) return fail(status.error());

  const Template& tmpl = impl_->single;
  const std::size_t template_size = options.add_special_tokens ? tmpl.before.size() + tmpl.after.size() : 0;
  if (options.max_length > 0) {
    if (options.max_length < template_size) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("max_length {} leaves no room for the {} tokens the template adds", options.max_length,
                              template_size));
    }
    ids.resize(std::min(ids.size(), options.max_length - template_size));
  }
  if (options.add_special_tokens) {
    ids.insert(ids.begin(), tmpl.before.begin(), tmpl.before.end());
    ids.insert(ids.end(), tmpl.after.begin(), tmpl.after.end());
  }
  return ids;
}

Result<std::string> QwenTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  std::string bytes;
  for (const std::int32_t id : ids) {
    if (const auto it = impl_->added_contents.find(id); it != impl_->added_contents.end()) {
      bytes += it->second;
      continue;
    }
    const std::string& token = impl_->bpe.bytes_of(id);
    if (token.empty()) {
      return fail(ErrorCode::invalid_argument, fmt::format("token id {} is not in the vocabulary (size {})", id, vocab_size()));
    }
    bytes += token;
  }
  return detail::replace_invalid_utf8(bytes);
}

std::int32_t QwenTokenizer::token_id(std::string_view token) const { return impl_->id_of_text(token); }

std::size_t QwenTokenizer::vocab_size() const {
  std::size_t size = impl_->bpe.size();
  for (const AddedToken& token : impl_->added) size = std::max(size, static_cast<std::size_t>(token.id) + 1);
  return size;
}

}  // namespace ferry::acestep
