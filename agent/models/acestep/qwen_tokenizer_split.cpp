#include "agent/models/acestep/qwen_tokenizer_split.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <utf8proc.h>

namespace ferry::acestep::detail {
namespace {

/// One decoded code point and where its bytes start.
struct CodePoint {
  char32_t value;
  std::size_t offset;
};

/// Decodes the code point at `pos` of well-formed UTF-8 and its length in
/// bytes, or length 0 when the bytes there are not well-formed.
std::pair<char32_t, std::size_t> decode_at(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return {0, 0};
  }
  if (pos + length > text.size()) return {0, 0};
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return {0, 0};
    value = (value << 6) | (byte(pos + i) & 0x3F);
  }
  const bool surrogate = value >= 0xD800 && value <= 0xDFFF;
  if (value < minimum || value > 0x10FFFF || surrogate) return {0, 0};
  return {value, length};
}

std::vector<CodePoint> decode_all(std::string_view text) {
  std::vector<CodePoint> out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto [value, length] = decode_at(text, pos);
    // Callers check the text first; a stray byte still advances, never loops.
    out.push_back({value, pos});
    pos += length == 0 ? 1 : length;
  }
  return out;
}

// The character classes the split pattern uses.
enum : std::uint8_t {
  kLetter = 1,     // \p{L}
  kNumber = 2,     // \p{N}
  kSpace = 4,      // \s
  kLineBreak = 8,  // [\r\n]
};

/// `\s` as the reference tokenizer's JavaScript regex engine defines it:
/// ECMAScript WhiteSpace and LineTerminator. (Oniguruma, behind the Rust
/// tokenizers library, also counts U+0085 and not U+FEFF; the oracle decides.)
bool is_regex_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0xA0: case 0xFEFF: case 0x2028: case 0x2029:
      return true;
    default:
      return c > 0x7F && utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ZS;
  }
}

std::uint8_t classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return kLetter;
    if (c >= '0' && c <= '9') return kNumber;
    if (c == '\r' || c == '\n') return kSpace | kLineBreak;
    return is_regex_space(c) ? kSpace : 0;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return kLetter;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return kNumber;
    default:
      return is_regex_space(c) ? kSpace : 0;
  }
}

/// Matches the pattern's alternatives at one position, in the pattern's
/// order, with the backtracking a regex engine would do spelled out.
class PieceMatcher {
 public:
  explicit PieceMatcher(const std::vector<CodePoint>& cps) : cps_(cps), classes_(cps.size()) {
    for (std::size_t i = 0; i < cps.size(); ++i) classes_[i] = classify(cps[i].value);
  }

  /// The end (exclusive, in code points) of the match that starts at `i`.
  std::size_t match_end(std::size_t i) const {
    if (std::size_t end = contraction(i)) return end;
    if (std::size_t end = letters(i)) return end;
    if (is(i, kNumber)) return i + 1;
    if (std::size_t end = symbols(i)) return end;
    if (is(i, kSpace)) return spaces(i);
    return i + 1;  // unreachable: every code point is a letter, number, space or other
  }

 private:
  bool is(std::size_t i, std::uint8_t cls) const { return i < classes_.size() && (classes_[i] & cls) != 0; }
  bool is_other(std::size_t i) const { return i < classes_.size() && (classes_[i] & (kLetter | kNumber | kSpace)) == 0; }
  char32_t lower_ascii(std::size_t i) const {
    if (i >= cps_.size()) return 0;
    const char32_t c = cps_[i].value;
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
  }
  std::size_t run_end(std::size_t i, std::uint8_t cls) const {
    while (is(i, cls)) ++i;
    return i;
  }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d), case-insensitive for ASCII letters only.
  std::size_t contraction(std::size_t i) const {
    if (i >= cps_.size() || cps_[i].value != '\'') return 0;
    const char32_t a = lower_ascii(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    const char32_t b = lower_ascii(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
  }

  // [^\r\n\p{L}\p{N}]?\p{L}+
  std::size_t letters(std::size_t i) const {
    if (is(i, kLetter)) return run_end(i, kLetter);
    const bool may_lead = i < classes_.size() && !is(i, kLetter | kNumber | kLineBreak);
    if (may_lead && is(i + 1, kLetter)) return run_end(i + 1, kLetter);
    return 0;
  }

  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  std::size_t symbols(std::size_t i) const {
    std::size_t start = i;
    if (i < cps_.size() && cps_[i].value == ' ' && is_other(i + 1)) start = i + 1;
    if (!is_other(start)) return 0;
    std::size_t end = start;
    while (is_other(end)) ++end;
    return run_end(end, kLineBreak);
  }

  // \s*[\r\n]+  then  \s+(?!\S)  then  \s+
  std::size_t spaces(std::size_t i) const {
    const std::size_t end = run_end(i, kSpace);
    for (std::size_t j = end; j > i; --j) {
      if (is(j - 1, kLineBreak)) return j;  // up to the run's last line break
    }
    if (end == cps_.size() || end - i == 1) return end;
    return end - 1;  // leave the last space to lead the next word
  }

  const std::vector<CodePoint>& cps_;
  std::vector<std::uint8_t> classes_;
};

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

Status check_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto [value, length] = decode_at(text, pos);
    if (length == 0) {
      return fail(ErrorCode::invalid_argument,
                  fmt::format("the text is not valid UTF-8 (bad byte 0x{:02X} at offset {}); save it as UTF-8",
                              static_cast<unsigned char>(text[pos]), pos));
    }
    pos += length;
  }
  return {};
}

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t length = decode_at(bytes, pos).second;
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(bytes.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

Result<std::string> nfc(std::string_view text) {
  if (is_ascii(text)) return std::string(text);  // ASCII is always in NFC
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &mapped, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
  if (length < 0) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("cannot normalise the text to NFC: {}", utf8proc_errmsg(length)));
  }
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

std::vector<std::string_view> split_qwen_pieces(std::string_view text) {
  const std::vector<CodePoint> cps = decode_all(text);
  const PieceMatcher matcher(cps);
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < cps.size();) {
    const std::size_t end = matcher.match_end(i);
    const std::size_t from = cps[i].offset;
    const std::size_t to = end < cps.size() ? cps[end].offset : text.size();
    pieces.push_back(text.substr(from, to - from));
    i = end;
  }
  return pieces;
}

}  // namespace ferry::acestep::detail
