#pragma once
// The text side of the Qwen tokenizer before BPE: UTF-8 checks, NFC
// normalisation and the pre-tokenizer's split pattern, implemented by hand
// because std::regex knows no Unicode classes.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace ferry::acestep::detail {

/// The exact split pattern of Qwen2/Qwen3 tokenizer.json files; the only one
/// split_qwen_pieces implements.
inline constexpr std::string_view kQwenSplitPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// Fails with invalid_argument, naming the byte offset, when `text` is not
/// well-formed UTF-8 (overlong forms, surrogates and code points past
/// U+10FFFF included).
Status check_utf8(std::string_view text);

/// `bytes` with every byte that is not part of a well-formed UTF-8
/// character replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view bytes);

/// Unicode canonical composition (NFC) of well-formed UTF-8 text.
Result<std::string> nfc(std::string_view text);

/// Cuts well-formed UTF-8 text into the pieces that kQwenSplitPattern
/// matches, in order; the pieces cover the whole text. Views into `text`.
std::vector<std::string_view> split_qwen_pieces(std::string_view text);

}  // namespace ferry::acestep::detail
